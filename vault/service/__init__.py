"""The service layer: one function per use case, typed inputs and results; front ends only parse, call and render.

- context.py  the vault a command works on and how to unlock it (the one place that calls the store)
- entries.py  get, set, list, rm, env list/create/use/rm, backup restore
- create.py   init
- inject.py   run, inject, export, request
- guard.py    audit, import, restore, watch
- send.py     send (the send helper's)
- record.py   cheap typed records for the modules on the `get`/`run` start-up path
"""
