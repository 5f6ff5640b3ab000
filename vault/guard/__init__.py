"""The sync guard: find tokens in exported files, report them without their values.

Layers, each knowing only the ones below it:
  detectors.py  tiny classifiers with stable ids (the registry)
  extract.py    anchored candidate extraction from byte buffers (the hot loop)
  readers.py    files -> buffers: encodings, binaries, chunks with overlap, Postman structure
  engine.py     walking trees, the process pool, per-file errors
  report.py / baseline.py / scrub.py / watcher.py   what audit, import and watch build on
"""
