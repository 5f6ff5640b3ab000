"""Team vaults on OpenBao / HashiCorp Vault (same HTTP API), through the KV v2 engine.

- kv.py       the client: several server addresses, failover, read-your-writes, every hvac and
              transport error mapped to the exit-status table, one deadline per call
- backend.py  `OpenBaoBackend`: the storage seam's `Backend` (a sealed document) on a KV v2 key
- envdoc.py   an environment <-> the data of one KV v2 secret (values plus their kinds and hosts)

hvac is imported only here, and only when a remote is used: `get` and `run` without
`--remote` never load it.
"""
