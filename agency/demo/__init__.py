"""The demo agency: staff, creators, accounts, daily metrics, programmes, deals and revenue, loaded
deterministically into whatever database is configured. It calls every domain, so it sits at the
top beside the web shell."""
