from tests.conftest import logged_in, login


def test_login_page_and_home(client, make_user):
    user = make_user("FrontDesk")
    assert client.get("/login/").status_code == 200
    response = login(client, user)
    assert logged_in(response)
    home = client.get("/")
    assert home.status_code == 200
