"""Platform pieces, apart from the domain: the security headers (``security``), the security
log (``security_log``), backup and restore (``backup``), the policy for outbound connections
(``outbound``) and the static files' compression and bundles (``assets``)."""
