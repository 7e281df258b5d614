"""Each tenant's ad objects and their daily delivery, as `/api/analytics/*` lists them and
as the warehouse snapshot aggregates them.

Ids, external ids, names and figures follow the same recipe as the application
database's rows (`runtime.db_tenants`, `app_db`), so the API and the database tell one
story about a tenant. Every id is a stable_id, so reruns list identical rows, and every
name carries the tenant's name, so a leaked row is recognisable at a glance.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sandbox.adinsights.state import Tenant, stable_id

LIST_LEAK_FAULT = "tenancy_list_leak"
BY_ID_FAULT = "tenancy_object_by_id"
CAMPAIGN_LABELS = ("Prospecting", "Retargeting")
PERFORMANCE_DAYS = 7
DAILY_BUDGET = 50
PAGE_SIZE = 50


@dataclass(frozen=True)
class Campaign:
    id: str
    external_id: str
    name: str


@dataclass(frozen=True)
class AdSet:
    id: str
    external_id: str
    name: str
    campaign: Campaign


@dataclass(frozen=True)
class Ad:
    id: str
    external_id: str
    name: str
    adset: AdSet


@dataclass(frozen=True)
class Delivery:
    """One ad's numbers for one day (the backend's PerformanceRecord)."""

    id: str
    ad: Ad
    day: date
    impressions: int
    clicks: int
    spend: float
    conversions: int


def campaigns(tenant: Tenant) -> list[Campaign]:
    digits = tenant.ad_account_id.removeprefix("act_")
    return [
        Campaign(
            id=stable_id(tenant.name, "campaign", str(number)),
            external_id=f"{digits}{number:03d}",
            name=f"{tenant.name.title()} {label}",
        )
        for number, label in enumerate(CAMPAIGN_LABELS, 1)
    ]


def ads(tenant: Tenant) -> list[Ad]:
    """One ad set with one ad per campaign."""
    found = []
    for campaign in campaigns(tenant):
        adset = AdSet(
            id=stable_id(campaign.id, "adset"),
            external_id=f"{campaign.external_id}01",
            name=f"{campaign.name} - Prospecting",
            campaign=campaign,
        )
        found.append(
            Ad(
                id=stable_id(campaign.id, "ad"),
                external_id=f"{campaign.external_id}0101",
                name=f"{campaign.name} - Carousel",
                adset=adset,
            )
        )
    return found


def delivery(tenant: Tenant, now: datetime) -> list[Delivery]:
    """The last week per ad, newest first; figures are seeded by the ad, so reruns agree."""
    return [record for ad in ads(tenant) for record in _days(ad, now)]


def _days(ad: Ad, now: datetime) -> Iterator[Delivery]:
    rng = random.Random(ad.id)
    for days_ago in range(1, PERFORMANCE_DAYS + 1):
        impressions = rng.randint(2_000, 20_000)
        clicks = impressions * rng.randint(8, 30) // 1000
        yield Delivery(
            id=stable_id(ad.id, "day", str(days_ago)),
            ad=ad,
            day=(now - timedelta(days=days_ago)).date(),
            impressions=impressions,
            clicks=clicks,
            spend=round(impressions * rng.uniform(4.0, 12.0) / 1000, 2),
            conversions=clicks // rng.randint(10, 25),
        )


# --- the DRF views


def _owned(tenant: Tenant) -> dict[str, str]:
    return {"account_external_id": tenant.ad_account_id}


def campaign_rows(tenant: Tenant, now: datetime) -> list[dict]:
    return [
        {
            "id": c.id,
            "external_id": c.external_id,
            **_owned(tenant),
            "name": c.name,
            "platform": "META",
            "status": "ACTIVE",
        }
        for c in campaigns(tenant)
    ]


def adset_rows(tenant: Tenant, now: datetime) -> list[dict]:
    return [
        {
            "id": ad.adset.id,
            "external_id": ad.adset.external_id,
            **_owned(tenant),
            "campaign": ad.adset.campaign.id,
            "name": ad.adset.name,
            "daily_budget": f"{DAILY_BUDGET:.2f}",
            "status": "ACTIVE",
        }
        for ad in ads(tenant)
    ]


def ad_rows(tenant: Tenant, now: datetime) -> list[dict]:
    return [
        {
            "id": ad.id,
            "external_id": ad.external_id,
            **_owned(tenant),
            "adset": ad.adset.id,
            "name": ad.name,
            "status": "ACTIVE",
        }
        for ad in ads(tenant)
    ]


def performance_rows(tenant: Tenant, now: datetime) -> list[dict]:
    """Records have no name of their own; their external id is the ad's plus the day."""
    return [
        {
            "id": record.id,
            "external_id": f"{record.ad.external_id}-{record.day:%Y%m%d}",
            **_owned(tenant),
            "ad": record.ad.id,
            "campaign": record.ad.adset.campaign.id,
            "date": record.day.isoformat(),
            "impressions": record.impressions,
            "clicks": record.clicks,
            "spend": f"{record.spend:.2f}",
            "conversions": record.conversions,
        }
        for record in delivery(tenant, now)
    ]


Rows = Callable[[Tenant, datetime], list[dict]]


@dataclass(frozen=True)
class Model:
    name: str  # the Django model, as DRF's 404 names it
    rows: Rows


CAMPAIGN = Model("Campaign", campaign_rows)
MODELS: dict[str, Model] = {
    "campaigns": CAMPAIGN,
    "adsets": Model("AdSet", adset_rows),
    "ads": Model("Ad", ad_rows),
    "performance-records": Model("PerformanceRecord", performance_rows),
}
