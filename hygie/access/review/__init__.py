"""Review of access to patient records: ingestion (ingest.py), columnar store (store.py),
analysis engine (engine.py); the DPO's queue and the synthetic generator live alongside."""
