"""Places: cities with coordinates, time zones and plausible public IP ranges; browsers and regions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class City:
    name: str
    country: str
    lat: float
    lon: float
    tz: str
    subdiv: str | None  # holidays subdivision, and the US state that decides a jurisdiction
    prefixes: tuple[str, str]  # two /16 ranges of local ISPs


CITIES: tuple[City, ...] = (
    City("Sydney", "AU", -33.8688, 151.2093, "Australia/Sydney", "NSW", ("101.160", "120.88")),
    City("Melbourne", "AU", -37.8136, 144.9631, "Australia/Melbourne", "VIC", ("110.142", "144.131")),
    City("Brisbane", "AU", -27.4698, 153.0251, "Australia/Brisbane", "QLD", ("49.186", "121.200")),
    City("Perth", "AU", -31.9523, 115.8613, "Australia/Perth", "WA", ("58.6", "124.170")),
    City("San Francisco", "US", 37.7749, -122.4194, "America/Los_Angeles", "CA", ("73.162", "98.207")),
    City("Los Angeles", "US", 34.0522, -118.2437, "America/Los_Angeles", "CA", ("76.91", "104.32")),
    City("Seattle", "US", 47.6062, -122.3321, "America/Los_Angeles", "WA", ("67.183", "97.113")),
    City("Denver", "US", 39.7392, -104.9903, "America/Denver", "CO", ("71.196", "75.70")),
    City("Austin", "US", 30.2672, -97.7431, "America/Chicago", "TX", ("70.112", "99.61")),
    City("Dallas", "US", 32.7767, -96.7970, "America/Chicago", "TX", ("47.184", "108.214")),
    City("Chicago", "US", 41.8781, -87.6298, "America/Chicago", "IL", ("73.45", "98.253")),
    City("New York", "US", 40.7128, -74.0060, "America/New_York", "NY", ("72.89", "100.2")),
    City("Boston", "US", 42.3601, -71.0589, "America/New_York", "MA", ("73.114", "96.252")),
    City("Richmond", "US", 37.5407, -77.4360, "America/New_York", "VA", ("71.62", "96.241")),
    City("Hartford", "US", 41.7658, -72.6734, "America/New_York", "CT", ("73.40", "24.2")),
    City("Atlanta", "US", 33.7490, -84.3880, "America/New_York", "GA", ("73.207", "99.96")),
    City("London", "GB", 51.5074, -0.1278, "Europe/London", "ENG", ("86.1", "81.98")),
    City("Manchester", "GB", 53.4808, -2.2426, "Europe/London", "ENG", ("82.11", "90.200")),
    City("Dublin", "IE", 53.3498, -6.2603, "Europe/Dublin", None, ("89.100", "86.40")),
    City("Berlin", "DE", 52.5200, 13.4050, "Europe/Berlin", "BE", ("91.64", "84.128")),
    City("Munich", "DE", 48.1351, 11.5820, "Europe/Berlin", "BY", ("88.217", "93.104")),
    City("Frankfurt", "DE", 50.1109, 8.6821, "Europe/Berlin", "HE", ("87.123", "79.200")),
    City("Paris", "FR", 48.8566, 2.3522, "Europe/Paris", None, ("90.3", "82.64")),
    City("Lyon", "FR", 45.7640, 4.8357, "Europe/Paris", None, ("90.66", "78.192")),
    City("Amsterdam", "NL", 52.3676, 4.9041, "Europe/Amsterdam", None, ("77.160", "145.53")),
    City("Madrid", "ES", 40.4168, -3.7038, "Europe/Madrid", None, ("83.32", "88.26")),
    City("Stockholm", "SE", 59.3293, 18.0686, "Europe/Stockholm", None, ("90.224", "83.248")),
    City("Milan", "IT", 45.4642, 9.1900, "Europe/Rome", None, ("93.40", "151.18")),
)
CITY_INDEX = {c.name: i for i, c in enumerate(CITIES)}
CITY_LAT = np.array([c.lat for c in CITIES])
CITY_LON = np.array([c.lon for c in CITIES])
CITY_TZ = [c.tz for c in CITIES]
TZ_NAMES = sorted(set(CITY_TZ) | {"UTC"})
TZ_INDEX = {t: i for i, t in enumerate(TZ_NAMES)}
CITY_TZ_IDX = np.array([TZ_INDEX[c.tz] for c in CITIES])

EU_COUNTRIES = frozenset({"IE", "DE", "FR", "NL", "ES", "SE", "IT"})
HOME_REGION = {"AU": "au-syd", "US": "us-east"} | {c: "eu-fra" for c in EU_COUNTRIES | {"GB"}}
REGION_OCTET = {"au-syd": 20, "us-east": 30, "eu-fra": 40, "ap-sin": 50}
STATE_JURISDICTION = {"CA": "US-CA", "VA": "US-VA", "CO": "US-CO", "CT": "US-CT", "TX": "US-TX"}


def jurisdiction_of(country: str, state: str | None = None) -> str:
    if country == "AU":
        return "AU"
    if country == "GB":
        return "UK"
    if country == "US":
        return STATE_JURISDICTION.get(state or "", "US-OTHER")
    return "EU"


def make_ips(rng: np.random.Generator, city_idx: np.ndarray) -> list[str]:
    """One public IPv4 per entry, inside one of its city's ISP ranges."""
    pick = rng.integers(0, 2, len(city_idx))
    c = rng.integers(1, 255, len(city_idx))
    d = rng.integers(2, 254, len(city_idx))
    return [f"{CITIES[i].prefixes[p]}.{x}.{y}" for i, p, x, y in zip(city_idx, pick, c, d, strict=True)]


def jitter_geo(rng: np.random.Generator, city_idx: np.ndarray, spread: float = 0.04) -> tuple[np.ndarray, np.ndarray]:
    """Where a geo-IP database would place each address: near the city, rounded like real lookups."""
    lat = CITY_LAT[city_idx] + rng.normal(0, spread, len(city_idx))
    lon = CITY_LON[city_idx] + rng.normal(0, spread, len(city_idx))
    return np.round(lat, 4), np.round(lon, 4)


DESKTOP_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
)
MOBILE_AGENTS = (
    "Capantra/5.14.2 (iPhone; iOS 18.1; Scale/3.00)",
    "Capantra/5.14.0 (Android 15; Pixel 8)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
)
CUSTOMER_AGENTS = DESKTOP_AGENTS + MOBILE_AGENTS
