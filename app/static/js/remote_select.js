/* Relation fields that search the server as the user types (select2's ajax mode).
 *
 * A <select data-remote-url="..."> holds only its chosen option(s); typing asks
 * the URL for ?q=<text> and offers at most the answer's results. Labels are
 * inserted as text (select2 escapes them). Fields added later - the list's
 * search filters, built when a filter is picked - are set up as they appear.
 */
(function ($) {
    "use strict";
    if (!$ || !$.fn || !$.fn.select2 || window.remoteSelectReady) {
        return;
    }
    window.remoteSelectReady = true;

    function setUp(element) {
        var $select = $(element);
        if ($select.data("remoteSelectDone") || $select.hasClass("select2-hidden-accessible")) {
            return;
        }
        $select.data("remoteSelectDone", true);
        var moreText = $select.attr("data-more-text") || "...";
        var text = function (name) {
            var value = $select.attr("data-" + name + "-text");
            return function () { return value; };
        };
        $select.select2({
            language: {
                noResults: text("no-match"),
                searching: text("searching"),
                errorLoading: text("failed")
            },
            theme: "bootstrap",
            width: "100%",
            placeholder: $select.attr("data-placeholder") || "",
            allowClear: $select.attr("data-allow-clear") === "true" || !!$select.closest("#filter_form").length,
            minimumInputLength: 0,
            ajax: {
                url: $select.attr("data-remote-url"),
                dataType: "json",
                delay: 250,
                cache: true,
                data: function (params) {
                    return {q: params.term || ""};
                },
                processResults: function (answer) {
                    var results = (answer && answer.results) || [];
                    if (answer && answer.more) {
                        results = results.concat([{id: "", text: moreText, disabled: true}]);
                    }
                    return {results: results};
                }
            }
        });
    }

    function scan(root) {
        var $root = $(root);
        $root.find("select[data-remote-url]").addBack("select[data-remote-url]").each(function () {
            setUp(this);
        });
    }

    $(function () {
        scan(document);
        if (window.MutationObserver) {
            new MutationObserver(function (mutations) {
                mutations.forEach(function (mutation) {
                    Array.prototype.forEach.call(mutation.addedNodes, function (node) {
                        if (node.nodeType === 1) {
                            scan(node);
                        }
                    });
                });
            }).observe(document.body, {childList: true, subtree: true});
        }
    });
})(window.jQuery);
