"""Check-in at the door: the redeem rules (services), scanner devices and their pairing
(devices), the scanner API (api) and the volunteer's scanner page (views, urls)."""
