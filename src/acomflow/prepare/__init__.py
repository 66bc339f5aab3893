"""Data preparation before registration (method.md §2.2-2.4): `stream` and `realign` (unsynchronised
streams onto the scan grid), `centre` and `centring` (direct-beam centres, descan plane).

Submodules are imported by name, so that each workflow rule's code hash covers only its own."""
