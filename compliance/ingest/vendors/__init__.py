"""Adapters that read vendors' own log exports (contract section 1.10) into `audit_events`.

One module per vendor holds its field mapping as SQL (documented in docs/sources/<vendor>.md); `core`
holds what they share (reading by exact path, envelopes, identity resolution, data-map naming, the
contract's validation); `loader` wires them into a load with manifest, rejects and de-duplication.
"""
