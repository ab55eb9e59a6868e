"""Customer electrical projects (客户工程/业扩报装, ENG-01 to ENG-17): tables."""
