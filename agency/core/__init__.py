"""What every domain uses: configuration, the database, errors, the request path, logging and
metrics, pagination, shared fields, imports, and the users, audit and jobs packages. Nothing here
imports a domain package."""
