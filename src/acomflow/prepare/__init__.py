"""Data preparation before registration (SPEC §1.2-1.4): `stream` and `realign` (unsynchronised
streams onto the scan grid), `centre` and `centring` (direct-beam centres, descan plane).

Submodules are imported by name, so that each workflow rule's code hash covers only its own."""
