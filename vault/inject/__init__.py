"""Runtime injection: secrets leave the vault only at the moment of use.

Templates, child environments, output masking, HTTP requests and Postman collections.
Nothing here imports `vault.cli`; heavy dependencies (httpx) are imported inside functions.
"""
