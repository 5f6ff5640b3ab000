"""Runtime injection: secrets leave the vault only at the moment of use.

Templates, child environments, output masking, HTTP, and building the requests of Postman
collections (the collection format itself is `vault.formats.collection`).
Nothing here imports `vault.cli`; heavy dependencies (httpx) are imported inside functions.
"""
