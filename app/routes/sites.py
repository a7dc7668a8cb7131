"""Sites for admins: the REST API (/api/admin/sites, /api/admin/audit) and the admin page (/admin)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app import sites
from app.auth import user_for_token
from app.hours import hours_from_json
from app.deps import CurrentAdmin, SettingsDep, StoreDep, bearer_token
from app.storage.records import AuditEntry, Site, User
from app.storage.sites import Audit
from app.validation import Line

router = APIRouter(tags=["sites"])
UI_DIR = Path(__file__).resolve().parents[1] / "ui" / "admin"
ASSETS = {"admin.css", "admin.js"}
_PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                 "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                 "form-action 'self'", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                 "Cache-Control": "no-store"}

Language = Literal["en", "fr", "es", "de", "pt", "it", "nl"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
HHMM = Annotated[str, Field(pattern=r"^\d\d:\d\d$")]


class BusinessHoursIn(BaseModel):
    """Weekly hours in the site's time zone (app/hours.py): ranges HH:MM-HH:MM (an end before the
    start runs past midnight), no overlaps; holidays are local dates without opening."""
    model_config = ConfigDict(extra="forbid")
    time_zone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"])
    weekly: dict[Day, Annotated[list[tuple[HHMM, HHMM]], Field(max_length=6)]] = Field(default_factory=dict,
                                                      examples=[{"mon": [["09:00", "17:00"]]}])
    holidays: list[Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]] = Field(default_factory=list,
                                                                                  max_length=366)
NAME = dict(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
ORIGINS = dict(max_length=50, description="Exact origins (https://shop.example.com, http://host:8080) or "
               "subdomain patterns (https://*.example.com).")


class SiteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(**NAME)  # type: ignore[arg-type]
    allowed_origins: list[str] = Field(**ORIGINS)  # type: ignore[arg-type]
    key: str | None = Field(default=None, pattern=sites.KEY_PATTERN, description="The widget key; default generated.")
    identity_required: bool = False
    language: Language = "en"
    business_hours: BusinessHoursIn | None = Field(default=None, description="None: always open.")


class SiteUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, **NAME)  # type: ignore[arg-type]
    allowed_origins: list[str] | None = Field(default=None, **ORIGINS)  # type: ignore[arg-type]
    identity_required: bool | None = None
    language: Language | None = None
    enabled: bool | None = None
    business_hours: BusinessHoursIn | None = Field(default=None, description="Set the hours; `null` clears "
                                                   "them (always open); absent leaves them.")


class SitePublic(BaseModel):
    key: str
    name: str
    allowed_origins: list[str]
    identity_required: bool
    language: str
    enabled: bool
    has_identity_secret: bool
    previous_secret_valid_until: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    script_tag: str
    business_hours: dict[str, Any] | None = None
    open_now: bool = True
    next_change: datetime | None = Field(default=None, description="When the site next opens or closes.")

    @classmethod
    def of(cls, site: Site, base_url: str) -> "SitePublic":
        now = datetime.now(site.previous_secret_expires_at.tzinfo) if site.previous_secret_expires_at else None
        grace = site.previous_secret_expires_at if now and site.previous_secret_expires_at > now else None  # type: ignore[operator]
        hours = hours_from_json(site.business_hours)
        at = datetime.now(timezone.utc)
        return cls(business_hours=hours.to_json() if hours else None, open_now=hours is None or hours.is_open(at),
                   next_change=hours.next_change(at) if hours else None,
                   key=site.key, name=site.name, allowed_origins=site.allowed_origins,
                   identity_required=site.enforce_identity, language=site.language, enabled=site.enabled,
                   has_identity_secret=bool(site.identity_secret), previous_secret_valid_until=grace,
                   created_at=site.created_at, updated_at=site.updated_at,
                   script_tag=sites.script_tag(base_url, site))


class SiteWithSecret(SitePublic):
    identity_secret: str = Field(description="Shown this once: sign user ids with it (HMAC-SHA256, hex).")


class SecretRotate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grace_hours: float = Field(default=24, ge=0, le=720, description="How long the old secret keeps verifying.")


class AuditPublic(BaseModel):
    id: int
    created_at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, e: AuditEntry) -> "AuditPublic":
        return cls(id=e.id, created_at=e.created_at, actor=e.actor, action=e.action, target=e.target, detail=e.detail)


def _base(request: Request, settings: SettingsDep) -> str:
    return settings.public_url or str(request.base_url)


def _who(admin: User) -> Audit:
    return Audit(admin.email, admin.id)


def _refused(exc: sites.SiteError) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc))


@router.get("/api/admin/sites", response_model=list[SitePublic])
async def list_sites(request: Request, admin: CurrentAdmin, store: StoreDep, settings: SettingsDep) -> list[SitePublic]:
    return [SitePublic.of(s, _base(request, settings)) for s in await store.list_sites()]


@router.post("/api/admin/sites", response_model=SiteWithSecret, status_code=201, responses={422: {}})
async def create_site(body: SiteCreate, request: Request, admin: CurrentAdmin, store: StoreDep,
                      settings: SettingsDep) -> SiteWithSecret:
    try:
        site, secret = await sites.create_site(store, _who(admin), name=body.name.strip(), key=body.key,
                                               allowed_origins=body.allowed_origins, language=body.language,
                                               identity_required=body.identity_required,
                                               business_hours=body.business_hours.model_dump()
                                               if body.business_hours else None,
                                               demo_mode=settings.demo_mode)
    except sites.SiteError as exc:
        raise _refused(exc) from None
    return SiteWithSecret(**SitePublic.of(site, _base(request, settings)).model_dump(), identity_secret=secret)


@router.get("/api/admin/sites/{key}", response_model=SitePublic, responses={404: {}})
async def get_site(key: str, request: Request, admin: CurrentAdmin, store: StoreDep,
                   settings: SettingsDep) -> SitePublic:
    site = await store.get_site(key)
    if site is None:
        raise HTTPException(404, f"no site {key!r}")
    return SitePublic.of(site, _base(request, settings))


@router.patch("/api/admin/sites/{key}", response_model=SitePublic, responses={404: {}, 422: {}})
async def update_site(key: str, body: SiteUpdate, request: Request, admin: CurrentAdmin, store: StoreDep,
                      settings: SettingsDep) -> SitePublic:
    changes = body.model_dump(exclude_none=True)
    if "business_hours" in body.model_fields_set and body.business_hours is None:
        changes["business_hours"] = {}  # an explicit null clears the hours
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    try:
        site = await sites.update_site(store, _who(admin), key, changes, settings.demo_mode)
    except sites.SiteError as exc:
        raise _refused(exc) from None
    except LookupError:
        raise HTTPException(404, f"no site {key!r}") from None
    return SitePublic.of(site, _base(request, settings))


@router.post("/api/admin/sites/{key}/disable", response_model=SitePublic, responses={404: {}})
async def disable_site(key: str, request: Request, admin: CurrentAdmin, store: StoreDep,
                       settings: SettingsDep) -> SitePublic:
    """Stop the widget on this site: its key's sockets are refused from now on."""
    return await update_site(key, SiteUpdate(enabled=False), request, admin, store, settings)


@router.post("/api/admin/sites/{key}/secret", response_model=SiteWithSecret, responses={404: {}})
async def rotate_secret(key: str, body: SecretRotate, request: Request, admin: CurrentAdmin, store: StoreDep,
                        settings: SettingsDep) -> SiteWithSecret:
    """A new identity secret, shown once; the old one verifies for `grace_hours` more."""
    try:
        site, secret = await sites.rotate_secret(store, _who(admin), key, body.grace_hours)
    except LookupError:
        raise HTTPException(404, f"no site {key!r}") from None
    return SiteWithSecret(**SitePublic.of(site, _base(request, settings)).model_dump(), identity_secret=secret)


@router.get("/api/admin/audit", response_model=list[AuditPublic])
async def list_audit(admin: CurrentAdmin, store: StoreDep, limit: int = Query(default=200, ge=1, le=1000),
                     target: Line | None = Query(default=None, max_length=120)) -> list[AuditPublic]:
    """Admin actions, newest first: who did what to which site, and when."""
    return [AuditPublic.of(e) for e in await store.list_audit(limit, target)]


# ----------------------------------------------------------------------------- the admin page
@router.get("/admin", include_in_schema=False)
async def admin_page(request: Request, store: StoreDep) -> Response:
    user = await user_for_token(store, bearer_token(request))
    if user is None:
        return RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    if user.role != "admin":
        return HTMLResponse("<!doctype html><title>Forbidden</title><p>This page is for admins.</p>",
                            status_code=403, headers=_PAGE_HEADERS)
    return HTMLResponse((UI_DIR / "admin.html").read_text(encoding="utf-8"), headers=_PAGE_HEADERS)


@router.get("/admin/assets/{name}", include_in_schema=False)
async def admin_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, "no such asset")
    return FileResponse(UI_DIR / name, headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})
