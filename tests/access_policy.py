"""The access policy as data: for every operation of the merged OpenAPI document (by its
operationId) and every identity kind, the outcome docs/access.md promises, and how to make a
valid call of it (which record its path ids name, a body).

An operation of the document without an entry here fails the matrix, and so does an entry whose
operation is gone: a new route is not reachable until someone has said who may call it.
"""

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

import httpx
from identities import KINDS, PASSWORD, PREFIX, LivePlatform, booking_body, unique_email


class Rule(StrEnum):
    OK = "ok"  # allowed: 2xx, or a domain 4xx (409, 422) that is not 401/403/404
    OWN = "own"  # allowed on its own records; another tenant's are 404 (left out of lists)
    UNAUTHENTICATED = "401"  # sign in first
    FORBIDDEN = "403"  # signed in, but this kind or role never may


# Own records of a kind (names in identities.Records); "partner_a"'s records are the other
# tenant's for everyone else, "partner_b"'s for partner A.
OWN_RECORD = {
    "booking": "anonymous",
    "guest": "guest",
    "partner_a": "partner_a",
    "partner_b": "partner_b",
    "driver": "guest",  # the driver assigned to the guest's pickup
}


def foreign_record(kind: str) -> str:
    return "partner_b" if kind == "partner_a" else "partner_a"


DESK = ("front_desk", "reservations", "manager", "admin")
EVERYONE = KINDS


def who(ok: Iterable[str] = (), own: Iterable[str] = (), **exceptions: Rule) -> dict[str, Rule]:
    """Rules for every kind: `ok` and `own` as named, anonymous 401 and every other kind 403
    unless `exceptions` says otherwise."""
    ok, own = set(ok), set(own)
    rules: dict[str, Rule] = {}
    for kind in KINDS:
        if kind in ok:
            rules[kind] = Rule.OK
        elif kind in own:
            rules[kind] = Rule.OWN
        elif kind == "anonymous":
            rules[kind] = Rule.UNAUTHENTICATED
        else:
            rules[kind] = Rule.FORBIDDEN
    rules.update(exceptions)
    return rules


@dataclass
class Call:
    """What one probe needs: the platform, the caller's kind and the record it aims at."""

    live: LivePlatform
    admin: httpx.Client
    kind: str
    record: str  # a name in identities.Records

    def reservation(self, name: str | None = None) -> dict[str, Any]:
        return self.live.records.reservations[name or self.record]

    def spare_user(self) -> str:
        made = self.admin.post(
            f"{PREFIX}/staff-users",
            json={
                "email": unique_email("spare"),
                "name": "Spare",
                "password": PASSWORD,
                "roles": ["housekeeping"],
                "properties": None,
                "driver_id": None,
            },
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    def spare_key(self) -> list[str]:
        partner = str(self.live.records.partners["partner_a"])
        made = self.admin.post(
            f"{PREFIX}/partners/{partner}/keys", json={"scopes": ["reservations:read"]}
        )
        assert made.status_code == 201, made.text
        return [partner, str(made.json()["id"])]

    def refresh_token(self) -> str:
        user = self.live.records.staff_users["marketing"]
        signed = self.admin.post(
            f"{PREFIX}/auth/token", data={"username": user["email"], "password": PASSWORD}
        )
        assert signed.status_code == 200, signed.text
        return str(signed.json()["refresh_token"])


Builder = Callable[[Call], Any]


@dataclass(frozen=True)
class Operation:
    rules: dict[str, Rule]
    # The values of the path's {ids}, in order (None: the path has none).
    ids: Callable[[Call], list[str]] | None = None
    body: Builder | None = None  # JSON
    form: Builder | None = None  # application/x-www-form-urlencoded
    params: Builder | None = None
    # For OWN lists: the id a list must leave out when another tenant's record is probed.
    listed: Callable[[Call], str] | None = None
    notes: str = field(default="", compare=False)


def _hex(n: int = 6) -> str:
    return uuid.uuid4().hex[:n]


def _reservation_id(call: Call) -> list[str]:
    return [str(call.reservation()["id"])]


def _stay(call: Call) -> dict[str, str]:
    booked = call.reservation("partner_a")
    return {"check_in": booked["check_in"], "check_out": booked["check_out"]}


def _range(call: Call) -> dict[str, str]:
    stay = _stay(call)
    return {"start": stay["check_in"], "end": stay["check_out"]}


def _rate_plan_id(call: Call) -> list[str]:
    """A plan of its own for each probe (made by the admin)."""
    made = call.admin.post(
        f"{PREFIX}/rate-plans",
        json={"room_type_code": "KNG", "code": "M" + _hex(), "name": "M", "property_id": 1},
    )
    assert made.status_code == 201, made.text
    return [str(made.json()["id"])]


def _spare_room(call: Call) -> list[str]:
    """A room of its own for each probe (made by the admin): a status or a period set on it
    takes no night from the bookings the other probes aim at."""
    made = call.admin.post(
        f"{PREFIX}/rooms",
        json={"number": "S" + _hex(6), "floor": 2, "room_type_code": "KNG", "property_id": 1},
    )
    assert made.status_code == 201, made.text
    return [str(made.json()["id"])]


def _period_body(call: Call) -> dict[str, Any]:
    """Two nights out of order on a spare room, from the day after tomorrow (never in the past
    at the property, whose day may be ahead of the test's)."""
    first = date.today() + timedelta(days=2)
    return {
        "room_id": int(_spare_room(call)[0]),
        "from_date": first.isoformat(),
        "to_date": (first + timedelta(days=2)).isoformat(),
        "reason": "Access matrix",
    }


def _period_id(call: Call) -> list[str]:
    """A period of its own for each probe (made by the admin), so ending it is never a no-op
    on another probe's."""
    made = call.admin.post(f"{PREFIX}/out-of-order-periods", json=_period_body(call))
    assert made.status_code == 201, made.text
    return [str(made.json()["id"])]


def _spare_mapping(call: Call) -> list[str]:
    """A partner of its own for each probe (made by the admin) at the demo hotel: a mapping
    put there never translates the codes of the partners whose bookings other probes make."""
    made = call.admin.post(
        f"{PREFIX}/partners", json={"name": f"Mapped {_hex()}", "channel": f"map_{_hex()}"}
    )
    assert made.status_code == 201, made.text
    return [str(made.json()["id"]), "1"]


def _analytics_range(call: Call) -> dict[str, Any]:
    return {"from": _stay(call)["check_in"], "to": _stay(call)["check_out"], "property_id": 1}


def _aimed(records: dict[str, Any], call: Call) -> Any:
    """The record a probe aims at; a refused caller whose other tenant has none (a partner has
    no pickups or notices) aims at anyone's."""
    return records.get(call.record) or next(iter(records.values()))


def _transfer_id(call: Call) -> list[str]:
    return [str(_aimed(call.live.records.transfers, call)["id"])]


def _incident_id(call: Call) -> list[str]:
    """An incident of its own for each probe (made by the admin) on a vehicle of its own, months
    ahead (an incident may start at most 366 days ahead): reporting it moves no job the other
    probes aim at."""
    vehicle = call.admin.post(
        f"{PREFIX}/vehicles",
        json={
            "plate": f"I-{_hex()}",
            "description": "Incident probe",
            "vehicle_class": "sedan",
            "seats": 3,
            "luggage_capacity": 2,
        },
    )
    assert vehicle.status_code == 201, vehicle.text
    starts = date.today() + timedelta(days=300)
    made = call.admin.post(
        f"{PREFIX}/incidents",
        json={
            "kind": "vehicle_breakdown",
            "vehicle_id": vehicle.json()["id"],
            "starts_at": f"{starts.isoformat()}T00:00:00Z",
            "ends_at": f"{(starts + timedelta(days=1)).isoformat()}T00:00:00Z",
            "description": "Access matrix",
        },
    )
    assert made.status_code == 201, made.text
    return [str(made.json()["incident"]["id"])]


TEMPLATE_READERS = ("front_desk", "marketing", "manager", "admin")
_TEMPLATE = {"body": "{{ property_name }}: request {{ confirmation_number }} lapsed."}


def _template_address(call: Call) -> list[str]:
    return ["reservation_expired", "sms", "en"]


def _notification_id(call: Call) -> list[str]:
    return [str(_aimed(call.live.records.notifications, call))]


INBOX_READERS = ("guest", "front_desk", "dispatcher", "manager", "admin")
INBOX_STAFF = ("front_desk", "dispatcher", "manager", "admin")


def _inbox_message_id(call: Call) -> list[str]:
    """A guest's message is its notice's own id (the inbox keeps one per notice); a staff
    member's is the first alert of their inbox (a booking request raises the front desk's; a
    pickup called off, dispatch's: made here when the dispatcher has none yet)."""
    if call.kind not in INBOX_STAFF:
        return _notification_id(call)

    def first() -> str | None:
        with call.live.client(call.kind) as client:
            listed = client.get(f"{PREFIX}/inbox/messages")
        assert listed.status_code == 200, listed.text
        items = listed.json()["items"]
        return str(items[0]["id"]) if items else None

    if (found := first()) is None:
        _pickup_called_off(call)
        deadline = time.monotonic() + 20
        while (found := first()) is None and time.monotonic() < deadline:
            time.sleep(0.2)
    return [found or str(uuid.uuid4())]


def _pickup_called_off(call: Call) -> None:
    """A booking of its own with a pickup, confirmed and then cancelled (by the admin): its job
    is called off, which is an alert for dispatch."""
    # Property 1 named: another operation of the matrix may have added a second property.
    body = {**booking_body(unique_email("dispatch"), transfer=True), "property_id": 1}
    made = call.admin.post(f"{PREFIX}/reservations", json=body)
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    confirmed = call.admin.post(f"{PREFIX}/reservations/{rid}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        jobs = call.admin.get(f"{PREFIX}/transfers", params={"reservation_id": rid})
        if jobs.status_code == 200 and jobs.json()["items"]:
            break
        time.sleep(0.2)
    cancelled = call.admin.post(
        f"{PREFIX}/reservations/{rid}/cancel", json={"reason": "access matrix"}
    )
    assert cancelled.status_code == 200, cancelled.text


def _own_push_device(call: Call) -> list[str]:
    """A device the caller registered first (a guest); anyone else aims at a made-up token."""
    token = f"probe-{_hex(12)}"
    if call.kind == "guest":
        with call.live.client(call.kind) as client:
            made = client.put(f"{PREFIX}/inbox/devices/{token}", json={"platform": "android"})
        assert made.status_code == 200, made.text
    return [token]


def _guest_id(call: Call) -> list[str]:
    return [str(_aimed(call.live.records.guests, call))]


def _spare_phone() -> str:
    return "+86139" + str(uuid.uuid4().int)[:8]


def _guest_contact_ids(call: Call) -> list[str]:
    """A phone of its own on the aimed profile for each probe (added by the admin): removing
    it never leaves a profile without a contact the other probes need."""
    guest_id = _guest_id(call)[0]
    made = call.admin.post(
        f"{PREFIX}/guests/{guest_id}/contacts", json={"kind": "phone", "value": _spare_phone()}
    )
    assert made.status_code == 201, made.text
    return [guest_id, str(made.json()["id"])]


def _spare_guest(call: Call) -> list[str]:
    """A profile of its own for each probe (made by the admin), for an erasure."""
    made = call.admin.post(
        f"{PREFIX}/guests", json={"name": "Spare Guest", "email": unique_email("erase")}
    )
    assert made.status_code == 201, made.text
    return [str(made.json()["id"])]


# guest-service: segments are marketing's and managers' (admin holds every role).
SEGMENT_STAFF = ("marketing", "manager", "admin")


def _segment_id(call: Call) -> list[str]:
    """A segment of its own per probe (a delete probe must not take another's)."""
    made = call.admin.post(
        f"{PREFIX}/segments",
        json={"name": f"Probe {_hex(10)}", "rule": {"recency": [3]}},
    )
    assert made.status_code == 201, made.text
    return [str(made.json()["id"])]


def _complaint_id(call: Call) -> list[str]:
    """A case of its own for each probe (filed by the admin)."""
    made = call.admin.post(
        f"{PREFIX}/complaints",
        json={
            "channel": "phone",
            "category": "other",
            "subject": "Access matrix",
            "name": "Probe Guest",
            "phone": "+86 139 0000 0000",
        },
    )
    assert made.status_code == 201, made.text
    return [str(made.json()["id"])]


def _consent_body(call: Call) -> dict[str, Any]:
    return {"channel": "email", "purpose": "marketing", "granted": True, "source": "front_desk"}


# -- guest-service: loyalty ---------------------------------------------------------------------
LOYALTY_READERS = (*DESK, "marketing")
_REWARD = {"kind": "reward", "reward": "breakfast"}  # no points yet: a 409, which is allowed


def _enrolled(call: Call, guest_id: str) -> str:
    """The guest enrolled (by the admin, waiving the qualifying stay): its member number."""
    made = call.admin.post(
        f"{PREFIX}/loyalty/members", json={"guest_id": guest_id, "waive_minimum": True}
    )
    assert made.status_code == 201, made.text
    return str(made.json()["member_number"])


def _member_number(call: Call) -> list[str]:
    return [_enrolled(call, _guest_id(call)[0])]


def _my_membership(call: Call) -> dict[str, Any]:
    """Nothing to send: the signed-in guest's profile made a member first."""
    _enrolled(call, str(call.live.records.guests["guest"]))
    return {}


def _partner_id(call: Call) -> list[str]:
    return [str(call.live.records.partners["partner_a"])]


def _new_booking(call: Call) -> dict[str, Any]:
    email = call.live.records.emails["guest"] if call.kind == "guest" else unique_email("m")
    return booking_body(email)


def _place_pair(call: Call) -> tuple[int, int]:
    """Two places of their own for each probe (made by the admin), so fares never collide."""
    ids = []
    for _ in range(2):
        code = "M" + _hex(6).upper()
        made = call.admin.post(
            f"{PREFIX}/places", json={"code": code, "name": f"Matrix {code}", "kind": "other"}
        )
        assert made.status_code == 201, made.text
        ids.append(int(made.json()["id"]))
    return ids[0], ids[1]


def _fare_body(call: Call) -> dict[str, Any]:
    a, b = _place_pair(call)
    return {"vehicle_class": "sedan", "from_place_id": a, "to_place_id": b, "amount": 10000}


def _fare_id(call: Call) -> list[str]:
    """A fare of its own for each probe (made by the admin)."""
    made = call.admin.post(f"{PREFIX}/fares", json=_fare_body(call))
    assert made.status_code == 201, made.text
    return [str(made.json()["id"])]


def _place_named(places: list[dict[str, Any]], text: str) -> int | None:
    """The id of the place `text` names, as transfer-service resolves it (places.py): a code,
    name or alias, case and spacing ignored, the whole text or its start before a separator
    ("... Airport T1")."""
    phrase = " ".join(text.casefold().split())
    best: tuple[int, int] | None = None  # (length of the spelling, id)
    for place in places:
        for spelling in (place["code"], place["name"], *place.get("aliases", [])):
            s = " ".join(spelling.casefold().split())
            if s.replace(" ", "") == phrase.replace(" ", ""):
                return int(place["id"])
            starts = len(phrase) > len(s) and phrase.startswith(s)
            if starts and not phrase[len(s)].isalnum() and (best is None or len(s) > best[0]):
                best = (len(s), int(place["id"]))
    return best[1] if best else None


def complete_transfers(live: LivePlatform, admin: httpx.Client) -> None:
    """The probes' pickups, completed before any probe runs (the matrix's fixture calls this),
    with a fare recorded for each one's vehicle class between its two places, so their receipts
    exist: `cancel_reservation` runs before `get_transfer_receipt` and would call a pickup not
    yet under way off with its booking. Every later step or dispatcher action on them answers
    409, which the policy counts as allowed."""
    places = admin.get(f"{PREFIX}/places", params={"limit": 200}).json()["items"]
    for job in live.records.transfers.values():
        vehicle_class = (job.get("vehicle") or {}).get("vehicle_class", "sedan")
        pair = (_place_named(places, job["pickup_place"]), _place_named(places, job["destination"]))
        assert None not in pair, f"the job names an unknown place: {job}"
        body = {"vehicle_class": vehicle_class, "amount": 10000}
        made = admin.post(
            f"{PREFIX}/fares", json=body | {"from_place_id": pair[0], "to_place_id": pair[1]}
        )
        assert made.status_code in (201, 409), made.text  # 409: a fare for the pair is there
        for step in ("driver_on_site", "in_progress", "completed"):
            done = admin.post(f"{PREFIX}/transfers/{job['id']}/progress", json={"status": step})
            assert done.status_code == 200, done.text


# transfer-service, issue 18 fleet: each probe works on records of its own (made by the admin),
# so a change, a period or a shift never clashes with another probe's.
def _vehicle_id(call: Call) -> list[str]:
    made = call.admin.post(
        f"{PREFIX}/vehicles",
        json={
            "plate": f"P-{_hex()}",
            "description": "Matrix sedan",
            "vehicle_class": "sedan",
            "seats": 3,
            "luggage_capacity": 2,
        },
    )
    assert made.status_code == 201, made.text
    return [str(made.json()["id"])]


def _driver_id(call: Call) -> list[str]:
    made = call.admin.post(
        f"{PREFIX}/drivers",
        json={
            "name": "Matrix Driver",
            "phone": f"+86139{int(_hex(8), 16) % 10**8:08d}",
            "licence_number": f"M-{_hex()}",
            "licence_expires_on": (date.today() + timedelta(days=900)).isoformat(),
        },
    )
    assert made.status_code == 201, made.text
    return [str(made.json()["id"])]


def _maintenance_body(call: Call) -> dict[str, Any]:
    first = date.today() + timedelta(days=30)
    return {"starts_on": first.isoformat(), "ends_on": first.isoformat(), "reason": "Matrix"}


def _maintenance_ids(call: Call) -> list[str]:
    vehicle = _vehicle_id(call)
    made = call.admin.post(
        f"{PREFIX}/vehicles/{vehicle[0]}/maintenance", json=_maintenance_body(call)
    )
    assert made.status_code == 201, made.text
    return [*vehicle, str(made.json()["id"])]


def _shift_body(call: Call) -> dict[str, Any]:
    start = date.today() + timedelta(days=30)
    return {
        "starts_at": f"{start.isoformat()}T01:00:00Z",
        "ends_at": f"{start.isoformat()}T09:00:00Z",
    }


def _shift_ids(call: Call) -> list[str]:
    driver = _driver_id(call)
    made = call.admin.post(f"{PREFIX}/drivers/{driver[0]}/shifts", json=_shift_body(call))
    assert made.status_code == 201, made.text
    return [*driver, str(made.json()["id"])]


def _place_body(call: Call) -> dict[str, Any]:
    code = "M" + _hex(8).upper()
    return {"code": code, "name": f"Matrix place {code}", "kind": "other"}


def _place_id(call: Call) -> list[str]:
    made = call.admin.post(f"{PREFIX}/places", json=_place_body(call))
    assert made.status_code == 201, made.text
    return [str(made.json()["id"])]


def _two_places(call: Call) -> list[str]:
    return [*_place_id(call), *_place_id(call)]


def _timed_pair(call: Call) -> list[str]:
    pair = _two_places(call)
    made = call.admin.put(f"{PREFIX}/travel-times/{pair[0]}/{pair[1]}", json={"minutes": 30})
    assert made.status_code == 201, made.text
    return pair


# guest-service: merging
MERGERS = ("front_desk", "manager", "admin")


def _two_guests(call: Call, name: str = "Matrix Pair", **shared: Any) -> list[str]:
    ids = []
    for side in ("a", "b"):
        made = call.admin.post(
            f"{PREFIX}/guests",
            json={"name": name, "email": unique_email(f"pair-{side}"), **shared},
        )
        assert made.status_code == 201, made.text
        ids.append(str(made.json()["id"]))
    return ids


def _merge_pair(call: Call) -> dict[str, str]:
    survivor, absorbed = _two_guests(call)
    return {"survivor_id": survivor, "absorbed_id": absorbed}


def _merge_id(call: Call) -> list[str]:
    made = call.admin.post(f"{PREFIX}/guest-merges", json=_merge_pair(call))
    assert made.status_code == 201, made.text
    return [str(made.json()["id"])]


def _suggestion_id(call: Call) -> list[str]:
    """Two front-desk profiles of one name and phone: a suggestion to merge them (the profile's
    writes ask suggestions.review)."""
    phone = "+86139" + str(uuid.uuid4().int)[:8]
    pair = set(_two_guests(call, name=f"Matrix {_hex()}", phone=phone))
    for _ in range(50):
        listed = call.admin.get(f"{PREFIX}/guests/merge-suggestions", params={"limit": 200})
        assert listed.status_code == 200, listed.text
        for item in listed.json()["items"]:
            if {g["id"] for g in item["guests"]} == pair:
                return [str(item["id"])]
        time.sleep(0.1)
    raise AssertionError("no merge suggestion for two profiles of one name and phone")


RESERVATION_READERS = (*DESK, "marketing")
TRANSFER_READERS = ("dispatcher", "front_desk", "manager", "admin")
FLEET_READERS = ("dispatcher", "manager", "admin")
BOOKING_OWNERS = ("booking", "guest", "partner_a", "partner_b")
ROOM_KEEPERS = (*DESK, "housekeeping")
ADMIN_ONLY = who(ok=["admin"])


# partner-service webhooks: a subscription of the probed record's partner, made with its own key
# (development: an http loopback URL is allowed). One per partner is reused; a partner deleting
# its own gets a fresh one (at most 10 subscriptions per partner).
PARTNER_KINDS = ("partner_a", "partner_b")
HOOK_URL = "http://127.0.0.1:9/hook"
_subscriptions: dict[tuple[int, str], str] = {}


def _new_subscription(call: Call, owner: str) -> str:
    with call.live.client(owner) as client:
        made = client.post(
            f"{PREFIX}/webhook-subscriptions", json={"url": HOOK_URL, "event_types": ["*"]}
        )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _subscription_id(call: Call) -> list[str]:
    owner = call.record if call.record in PARTNER_KINDS else "partner_a"
    key = (id(call.live), owner)
    if key not in _subscriptions:
        _subscriptions[key] = _new_subscription(call, owner)
    return [_subscriptions[key]]


def _spare_subscription_id(call: Call) -> list[str]:
    if call.kind == call.record:  # its own: deleted for real
        return [_new_subscription(call, call.record)]
    return _subscription_id(call)


WEBHOOK_OWNERS = who(own=PARTNER_KINDS)

POLICY: dict[str, Operation] = {
    # reservation-service: the catalogue is public, building it is the manager's.
    "list_properties": Operation(who(ok=EVERYONE)),
    "list_room_types": Operation(who(ok=EVERYONE)),
    "get_availability": Operation(
        who(ok=EVERYONE),
        params=lambda c: {
            "check_in": c.reservation("partner_a")["check_in"],
            "check_out": c.reservation("partner_a")["check_out"],
        },
    ),
    "create_property": Operation(
        who(ok=["manager", "admin"]),
        body=lambda c: {
            "name": f"Annex {_hex()}",
            "timezone": "Asia/Shanghai",
            "currency": "CNY",
            "check_in_time": "14:00:00",
            "check_out_time": "12:00:00",
        },
    ),
    "create_room_type": Operation(
        who(ok=["manager", "admin"]),
        body=lambda c: {
            "code": "T" + _hex(5).upper(),
            "name": "Test room",
            "capacity": 2,
            "bed_type": "king",
            "base_amount": 50000,
            "property_id": 1,
        },
    ),
    "create_room": Operation(
        who(ok=["manager", "admin"]),
        body=lambda c: {"number": _hex(6), "floor": 3, "room_type_code": "KNG", "property_id": 1},
    ),
    "list_rooms": Operation(who(ok=ROOM_KEEPERS)),
    # reservation-service, issue 17 inventory: housekeeping status and out-of-order periods are
    # the desk's and housekeeping's (their properties); analytics the desk's and managers'.
    "update_room": Operation(
        who(ok=ROOM_KEEPERS), ids=_spare_room, body=lambda c: {"housekeeping_status": "clean"}
    ),
    "create_period": Operation(who(ok=ROOM_KEEPERS), body=_period_body),
    "list_periods": Operation(who(ok=ROOM_KEEPERS)),
    "end_period": Operation(who(ok=ROOM_KEEPERS), ids=_period_id),
    "get_occupancy": Operation(who(ok=DESK), params=_analytics_range),
    "get_day": Operation(
        who(ok=DESK), params=lambda c: {"date": _stay(c)["check_in"], "property_id": 1}
    ),
    "get_pickup": Operation(who(ok=DESK), params=_analytics_range),
    "get_channel_mix": Operation(who(ok=DESK), params=_analytics_range),
    "get_cancellations": Operation(who(ok=DESK), params=_analytics_range),
    "get_stay_patterns": Operation(who(ok=DESK), params=_analytics_range),
    "create_reservation": Operation(
        who(ok=["anonymous", *BOOKING_OWNERS, *DESK]), body=_new_booking
    ),
    "list_reservations": Operation(
        who(ok=RESERVATION_READERS, own=BOOKING_OWNERS),
        listed=lambda c: str(c.reservation()["id"]),
    ),
    "get_reservation": Operation(
        who(ok=RESERVATION_READERS, own=BOOKING_OWNERS), ids=_reservation_id
    ),
    "reservation_history": Operation(
        who(ok=RESERVATION_READERS, own=BOOKING_OWNERS), ids=_reservation_id
    ),
    "confirm_reservation": Operation(who(ok=DESK, own=BOOKING_OWNERS), ids=_reservation_id),
    "cancel_reservation": Operation(
        who(ok=DESK, own=BOOKING_OWNERS),
        ids=_reservation_id,
        body=lambda c: {"reason": "access matrix"},
    ),
    "modify_reservation": Operation(
        who(ok=DESK, own=BOOKING_OWNERS), ids=_reservation_id, body=lambda c: {"guests": 1}
    ),
    # Desk staff or the payment flow (service credentials): never the guest or partner.
    "guarantee_reservation": Operation(who(ok=DESK), ids=_reservation_id),
    # reservation-service, issue 17 stay: front desk work is desk staff's alone; the folio is
    # also read by its guest and its booking holder (own), never by a partner.
    "room_suggestions": Operation(who(ok=DESK), ids=_reservation_id),
    "assign_room": Operation(who(ok=DESK), ids=_reservation_id, body=lambda c: {}),
    "check_in": Operation(
        who(ok=DESK),
        ids=_reservation_id,
        body=lambda c: {
            "id_verification": {
                "document_type": "passport",
                "issuing_country": "CN",
                "last4": "1234",
                "attested": True,
            },
            "deposit": {"amount": 0, "method": "cash"},
        },
    ),
    "check_out": Operation(who(ok=DESK), ids=_reservation_id),
    "get_folio": Operation(who(ok=DESK, own=["guest", "booking"]), ids=_reservation_id),
    "post_charge": Operation(
        who(ok=DESK), ids=_reservation_id, body=lambda c: {"category": "minibar", "amount": 6800}
    ),
    "take_payment": Operation(
        who(ok=DESK), ids=_reservation_id, body=lambda c: {"amount": 100, "method": "cash"}
    ),
    # reservation-service, issue 21: a partner's code mappings are set by managers (their
    # properties) and the admin, read by desk staff (their properties) and partner keys (own).
    "put_partner_mapping": Operation(
        who(ok=["manager", "admin"]),
        ids=_spare_mapping,
        body=lambda c: {"room_types": {"X-KNG": "KNG"}, "rate_plans": {"X-RO": "BASE"}},
    ),
    "delete_partner_mapping": Operation(who(ok=["manager", "admin"]), ids=_spare_mapping),
    "list_partner_mappings": Operation(who(ok=[*DESK, "partner_a", "partner_b"])),
    # reservation-service, issue 17 rates: plans and quotes are public, ARI is managers' and
    # channel managers' (`ari:write`, which the matrix's partner keys do not hold).
    "list_rate_plans": Operation(who(ok=EVERYONE)),
    "get_rate_plan": Operation(who(ok=EVERYONE), ids=_rate_plan_id),
    "create_quote": Operation(
        who(ok=EVERYONE), body=lambda c: {"room_type_code": "KNG"} | _stay(c)
    ),
    "create_rate_plan": Operation(
        who(ok=["manager", "admin"]),
        body=lambda c: {
            "room_type_code": "KNG",
            "code": "T" + _hex(),
            "name": "T",
            "property_id": 1,
        },
    ),
    "update_rate_plan": Operation(
        who(ok=["manager", "admin"]), ids=_rate_plan_id, body=lambda c: {"name": "Matrix"}
    ),
    "update_property": Operation(
        who(ok=["manager", "admin"]), ids=lambda c: ["1"], body=lambda c: {"tax_rate_bp": 0}
    ),
    "push_rates": Operation(
        who(ok=["manager", "admin"]),
        ids=_rate_plan_id,
        body=lambda c: {"ranges": [_range(c) | {"amount": 50000}]},
    ),
    "push_restrictions": Operation(
        who(ok=["manager", "admin"]),
        ids=_rate_plan_id,
        body=lambda c: {"ranges": [_range(c) | {"min_stay": 1}]},
    ),
    "read_ari": Operation(
        who(ok=DESK),
        params=lambda c: {"from": _stay(c)["check_in"], "to": _stay(c)["check_out"]},
    ),
    # transfer-service
    "list_transfers": Operation(
        who(ok=TRANSFER_READERS, own=["driver", "guest", "booking"]),
        listed=lambda c: str(c.live.records.transfers[c.record]["id"]),
    ),
    "get_transfer": Operation(
        who(ok=TRANSFER_READERS, own=["driver", "guest", "booking"]), ids=_transfer_id
    ),
    "report_transfer_progress": Operation(
        who(ok=["dispatcher", "admin"], own=["driver"]),
        ids=_transfer_id,
        body=lambda c: {"status": "driver_on_site"},
    ),
    "create_transfer": Operation(
        who(ok=["dispatcher", "front_desk", "manager", "admin", "guest"]),
        body=lambda c: {
            "guest": {"name": "Matrix Guest", "email": unique_email("ride")},
            "pickup_place": "Bund Garden Hotel",
            "destination": "Pudong Airport",
            "pickup_time": f"{(date.today() + timedelta(days=40)).isoformat()}T10:00:00+08:00",
            "passengers": 1,
        },
    ),
    # issue 18, dispatch & live. Dispatcher actions get a body that fails validation (422):
    # a probe must not move the pickups the other probes aim at.
    "assign_transfer": Operation(
        who(ok=["dispatcher", "admin"]),
        ids=_transfer_id,
        body=lambda c: {"vehicle_id": 0, "driver_id": 0},
    ),
    "swap_transfer_crew": Operation(
        who(ok=["dispatcher", "admin"]), ids=_transfer_id, body=lambda c: {}
    ),
    "unassign_transfer": Operation(
        who(ok=["dispatcher", "admin"]), ids=_transfer_id, body=lambda c: {"reason": ""}
    ),
    "cancel_transfer": Operation(
        who(ok=["dispatcher", "admin"]), ids=_transfer_id, body=lambda c: {"reason": ""}
    ),
    "get_transfer_audit": Operation(who(ok=FLEET_READERS), ids=_transfer_id),
    **{
        f"report_transfer_{step}": Operation(
            who(ok=["dispatcher", "admin"], own=["driver"]), ids=_transfer_id
        )
        for step in ("en_route", "on_site", "on_board", "complete", "no_show")
    },
    "create_incident": Operation(
        who(ok=FLEET_READERS),
        body=lambda c: {"kind": "vehicle_breakdown", "description": "no vehicle named"},
    ),
    "list_incidents": Operation(who(ok=FLEET_READERS)),
    "get_incident": Operation(who(ok=FLEET_READERS), ids=_incident_id),
    "resolve_incident": Operation(who(ok=FLEET_READERS), ids=_incident_id),
    "create_flight_update": Operation(
        who(ok=FLEET_READERS), body=lambda c: {"flight_number": "ZZ999"}
    ),
    "list_vehicles": Operation(who(ok=FLEET_READERS)),
    "list_drivers": Operation(who(ok=FLEET_READERS)),
    "create_vehicle": Operation(
        who(ok=["manager", "admin"]),
        body=lambda c: {
            "plate": f"T-{_hex()}",
            "description": "Test sedan",
            "vehicle_class": "sedan",
            "seats": 3,
            "luggage_capacity": 2,
        },
    ),
    "create_driver": Operation(
        who(ok=["manager", "admin"]),
        body=lambda c: {
            "name": "Test Driver",
            "phone": f"+86138{int(_hex(8), 16) % 10**8:08d}",
            "licence_number": f"T-{_hex()}",
            "licence_expires_on": (date.today() + timedelta(days=900)).isoformat(),
            "languages": ["en"],
        },
    ),
    "list_fares": Operation(who(ok=FLEET_READERS)),
    "get_fare": Operation(who(ok=FLEET_READERS), ids=_fare_id),
    "create_fare": Operation(who(ok=["manager", "admin"]), body=_fare_body),
    "update_fare": Operation(
        who(ok=["manager", "admin"]), ids=_fare_id, body=lambda c: {"amount": 12000}
    ),
    "delete_fare": Operation(who(ok=["manager", "admin"]), ids=_fare_id),
    "get_transfer_receipt": Operation(
        who(ok=TRANSFER_READERS, own=["driver", "guest", "booking"]), ids=_transfer_id
    ),
    "get_dispatch_board": Operation(
        who(ok=TRANSFER_READERS), params=lambda c: {"date": _stay(c)["check_in"]}
    ),
    "transfer_analytics": Operation(
        who(ok=["manager", "admin"]),
        params=lambda c: {"from": _stay(c)["check_in"], "to": _stay(c)["check_out"]},
    ),
    # issue 18 fleet: managers keep vehicles, drivers, shifts, places and travel times;
    # dispatchers read them all and record (and end) a vehicle's maintenance periods.
    "get_vehicle": Operation(who(ok=FLEET_READERS), ids=_vehicle_id),
    "update_vehicle": Operation(
        who(ok=["manager", "admin"]), ids=_vehicle_id, body=lambda c: {"odometer_km": 10}
    ),
    "create_maintenance": Operation(who(ok=FLEET_READERS), ids=_vehicle_id, body=_maintenance_body),
    "list_maintenance": Operation(who(ok=FLEET_READERS), ids=_vehicle_id),
    "end_maintenance": Operation(who(ok=FLEET_READERS), ids=_maintenance_ids),
    "get_driver": Operation(who(ok=FLEET_READERS), ids=_driver_id),
    "update_driver": Operation(
        who(ok=["manager", "admin"]), ids=_driver_id, body=lambda c: {"min_rest_minutes": 600}
    ),
    "create_shift": Operation(who(ok=["manager", "admin"]), ids=_driver_id, body=_shift_body),
    "list_shifts": Operation(who(ok=FLEET_READERS), ids=_driver_id),
    "delete_shift": Operation(who(ok=["manager", "admin"]), ids=_shift_ids),
    "list_places": Operation(who(ok=FLEET_READERS)),
    "get_place": Operation(who(ok=FLEET_READERS), ids=_place_id),
    "create_place": Operation(who(ok=["manager", "admin"]), body=_place_body),
    "update_place": Operation(
        who(ok=["manager", "admin"]), ids=_place_id, body=lambda c: {"aliases": [f"m {_hex()}"]}
    ),
    "list_travel_times": Operation(who(ok=FLEET_READERS)),
    "set_travel_time": Operation(
        who(ok=["manager", "admin"]), ids=_two_places, body=lambda c: {"minutes": 25}
    ),
    "delete_travel_time": Operation(who(ok=["manager", "admin"]), ids=_timed_pair),
    # guest-service
    "list_guests": Operation(who(ok=RESERVATION_READERS)),
    "get_guest": Operation(who(ok=RESERVATION_READERS), ids=_guest_id),
    "create_guest": Operation(
        who(ok=DESK), body=lambda c: {"name": "Walk In", "email": unique_email("walk-in")}
    ),
    "update_guest": Operation(who(ok=DESK), ids=_guest_id, body=lambda c: {"language": "en"}),
    "get_my_guest_profile": Operation(who(ok=["guest"])),
    # guest-service: profiles
    "update_my_guest_profile": Operation(who(ok=["guest"]), body=lambda c: {"language": "en"}),
    "list_guest_contacts": Operation(who(ok=RESERVATION_READERS), ids=_guest_id),
    "add_guest_contact": Operation(
        who(ok=DESK), ids=_guest_id, body=lambda c: {"kind": "phone", "value": _spare_phone()}
    ),
    "update_guest_contact": Operation(
        who(ok=DESK), ids=_guest_contact_ids, body=lambda c: {"is_primary": True}
    ),
    "remove_guest_contact": Operation(who(ok=DESK), ids=_guest_contact_ids),
    "get_guest_document": Operation(who(ok=["front_desk", "manager", "admin"]), ids=_guest_id),
    "list_pii_reads": Operation(who(ok=["manager", "admin"])),
    "run_re_encryption": Operation(ADMIN_ONLY),
    # guest-service: merging
    "list_merge_suggestions": Operation(who(ok=MERGERS)),
    "dismiss_merge_suggestion": Operation(who(ok=MERGERS), ids=_suggestion_id),
    "merge_guests": Operation(who(ok=MERGERS), body=_merge_pair),
    "get_guest_merge": Operation(who(ok=MERGERS), ids=_merge_id),
    "undo_guest_merge": Operation(who(ok=MERGERS), ids=_merge_id),
    # guest-service: rights (consents, contact preferences, export, erasure)
    "get_contact_preferences": Operation(who(ok=RESERVATION_READERS), ids=_guest_id),
    "set_contact_preferences": Operation(
        who(ok=DESK), ids=_guest_id, body=lambda c: {"channels": ["email"], "language": "en"}
    ),
    "list_consents": Operation(who(ok=RESERVATION_READERS), ids=_guest_id),
    "record_consent": Operation(who(ok=DESK), ids=_guest_id, body=_consent_body),
    "get_my_contact_preferences": Operation(who(ok=["guest"])),
    "set_my_contact_preferences": Operation(
        who(ok=["guest"]), body=lambda c: {"channels": ["email", "sms"]}
    ),
    "list_my_consents": Operation(who(ok=["guest"])),
    "record_my_consent": Operation(
        who(ok=["guest"]),
        body=lambda c: {"channel": "sms", "purpose": "marketing", "granted": False},
    ),
    "export_guest_data": Operation(who(ok=["manager", "admin"]), ids=_guest_id),
    "export_my_data": Operation(who(ok=["guest"])),
    # Each probe erases a profile of its own; the signed-in guest's probe is not confirmed (a
    # 422 after the access check), so the guest's profile stays for the other probes.
    "erase_guest": Operation(
        who(ok=["manager", "admin"]), ids=_spare_guest, body=lambda c: {"confirm": True}
    ),
    "erase_my_data": Operation(who(ok=["guest"]), body=lambda c: {"confirm": False}),
    # guest-service: feedback. The survey link's token is the key: anyone may use it (a bad
    # token or body is a 422, never 401/403). Results are marketing's and managers'; follow-up
    # calls and complaint cases the desk's; a signed-in guest files complaints and reads theirs.
    # Bodies that fail validation: a probe files and moves nothing.
    "survey_results": Operation(
        who(ok=["marketing", "manager", "admin"]),
        params=lambda c: {"from": "2030-06-01", "to": "2030-06-30"},
    ),
    "list_follow_ups": Operation(who(ok=DESK)),
    "record_call": Operation(who(ok=DESK), ids=lambda c: [_hex()], body=lambda c: {}),
    "open_survey": Operation(who(ok=EVERYONE), ids=lambda c: ["short"]),
    "answer_survey": Operation(who(ok=EVERYONE), ids=lambda c: ["A" * 32], body=lambda c: {}),
    "file_complaint": Operation(
        who(ok=[*DESK, "guest"]), body=lambda c: {"category": "probe", "subject": "x"}
    ),
    "list_complaints": Operation(who(ok=DESK)),
    "list_my_complaints": Operation(who(ok=["guest"])),
    "get_complaint": Operation(who(ok=DESK), ids=_complaint_id),
    "move_complaint": Operation(who(ok=DESK), ids=lambda c: [_hex()], body=lambda c: {}),
    "set_waiting_on_guest": Operation(who(ok=DESK), ids=lambda c: [_hex()], body=lambda c: {}),
    # guest-service: segments
    "get_guest_history": Operation(who(ok=RESERVATION_READERS), ids=_guest_id),
    "list_segments": Operation(who(ok=SEGMENT_STAFF)),
    "create_segment": Operation(
        who(ok=SEGMENT_STAFF),
        body=lambda c: {"name": f"Segment {_hex()}", "rule": {"value_classes": ["key"]}},
    ),
    "get_segment": Operation(who(ok=SEGMENT_STAFF), ids=_segment_id),
    "update_segment": Operation(
        who(ok=SEGMENT_STAFF), ids=_segment_id, body=lambda c: {"description": "Probed"}
    ),
    "delete_segment": Operation(who(ok=SEGMENT_STAFF), ids=_segment_id),
    "list_segment_members": Operation(who(ok=SEGMENT_STAFF), ids=_segment_id),
    # guest-service: loyalty
    "list_rewards": Operation(who(ok=EVERYONE)),
    "list_loyalty_members": Operation(who(ok=LOYALTY_READERS)),
    "enrol_member": Operation(who(ok=DESK), body=lambda c: {"guest_id": _guest_id(c)[0]}),
    "get_my_membership": Operation(who(ok=["guest"]), params=lambda c: _my_membership(c)),
    "enrol_me": Operation(who(ok=["guest"])),
    "my_points_statement": Operation(who(ok=["guest"]), params=lambda c: _my_membership(c)),
    "redeem_my_points": Operation(who(ok=["guest"]), body=lambda c: _my_membership(c) | _REWARD),
    "get_member": Operation(who(ok=LOYALTY_READERS), ids=_member_number),
    "get_points_statement": Operation(who(ok=LOYALTY_READERS), ids=_member_number),
    "list_redemptions": Operation(who(ok=LOYALTY_READERS), ids=_member_number),
    "redeem_points": Operation(
        who(ok=["front_desk", "manager", "admin"]), ids=_member_number, body=lambda c: _REWARD
    ),
    # notification-service
    "list_notifications": Operation(
        who(ok=["front_desk", "manager", "admin"], own=["guest", "booking"]),
        listed=lambda c: c.live.records.notifications[c.record],
    ),
    "get_notification": Operation(
        who(ok=["front_desk", "manager", "admin"], own=["guest", "booking"]),
        ids=_notification_id,
    ),
    "retry_notifications": Operation(
        who(ok=["manager", "admin"]),
        body=lambda c: {"reservation_id": str(c.reservation("partner_a")["id"])},
    ),
    "retry_notification": Operation(who(ok=["manager", "admin"]), ids=_notification_id),
    # notification-service: the in-app inbox (guests' notices, staff alerts)
    "list_inbox_messages": Operation(who(ok=INBOX_READERS)),
    "mark_all_inbox_messages_read": Operation(who(ok=INBOX_READERS)),
    "mark_inbox_message_read": Operation(who(ok=INBOX_STAFF, own=["guest"]), ids=_inbox_message_id),
    "register_push_device": Operation(
        who(ok=["guest"]), ids=lambda c: [f"probe-{_hex(12)}"], body=lambda c: {"platform": "ios"}
    ),
    "delete_push_device": Operation(who(ok=["guest"]), ids=_own_push_device),
    "put_inbox_settings": Operation(who(ok=INBOX_STAFF), body=lambda c: {"digest": "off"}),
    # notification-service: templates (read and preview: managers, marketing, the front desk;
    # override and drop: managers). The PUT probe stores a short SMS text, the DELETE drops it.
    "list_notification_templates": Operation(who(ok=TEMPLATE_READERS)),
    "get_notification_template": Operation(who(ok=TEMPLATE_READERS), ids=_template_address),
    "preview_notification_template": Operation(
        who(ok=TEMPLATE_READERS),
        body=lambda c: {"kind": "reservation_expired", "channel": "sms", "language": "en"},
    ),
    "put_notification_template": Operation(
        who(ok=["manager", "admin"]), ids=_template_address, body=lambda c: _TEMPLATE
    ),
    "delete_notification_template": Operation(who(ok=["manager", "admin"]), ids=_template_address),
    # Signed by the provider, not signed-in: an unsigned receipt is 401 for every caller.
    "record_receipt": Operation(
        {kind: Rule.UNAUTHENTICATED for kind in KINDS},
        ids=lambda c: ["sms-probe"],
        body=lambda c: {"id": _hex(), "status": "delivered"},
    ),
    # partner-service: the event feed is a partner key's own (the key names the feed: no id to
    # aim at another's); staff, guests and booking holders 403, anonymous 401.
    "read_events": Operation(who(ok=["partner_a", "partner_b"])),
    # gateway: signing in is open to every caller.
    "issue_token": Operation(
        who(ok=EVERYONE),
        form=lambda c: {
            "username": c.live.records.staff_users["marketing"]["email"],
            "password": PASSWORD,
        },
    ),
    "refresh_tokens": Operation(
        who(ok=EVERYONE), body=lambda c: {"refresh_token": c.refresh_token()}
    ),
    "request_sign_in_code": Operation(
        who(ok=EVERYONE), body=lambda c: {"email": unique_email("code")}
    ),
    "sign_in_with_code": Operation(who(ok=EVERYONE), body=lambda c: _guest_code_body(c)),
    "sign_in_with_booking": Operation(
        who(ok=EVERYONE),
        body=lambda c: {
            "confirmation_number": c.reservation("anonymous")["confirmation_number"],
            "last_name": "Clarke",
        },
    ),
    "who_am_i": Operation(who(ok=EVERYONE)),
    "my_trips": Operation(who(own=["guest", "booking"])),
    # gateway administration: the admin's alone.
    "create_staff_user": Operation(
        ADMIN_ONLY,
        body=lambda c: {
            "email": unique_email("new-staff"),
            "name": "New Staff",
            "password": PASSWORD,
            "roles": ["housekeeping"],
            "properties": [1],
            "driver_id": None,
        },
    ),
    "list_staff_users": Operation(ADMIN_ONLY),
    "update_staff_user": Operation(
        ADMIN_ONLY, ids=lambda c: [c.spare_user()], body=lambda c: {"roles": ["front_desk"]}
    ),
    "create_partner": Operation(
        ADMIN_ONLY, body=lambda c: {"name": f"OTA {_hex()}", "channel": f"ota_{_hex(4)}"}
    ),
    "list_partners": Operation(ADMIN_ONLY),
    "create_partner_key": Operation(
        ADMIN_ONLY, ids=_partner_id, body=lambda c: {"scopes": ["reservations:read"]}
    ),
    "list_partner_keys": Operation(ADMIN_ONLY, ids=_partner_id),
    "rotate_partner_key": Operation(
        ADMIN_ONLY, ids=lambda c: c.spare_key(), body=lambda c: {"overlap_seconds": 0}
    ),
    "revoke_partner_key": Operation(ADMIN_ONLY, ids=lambda c: c.spare_key()),
    # partner-service: webhook subscriptions (partner keys only; another partner's are 404)
    "create_webhook_subscription": Operation(
        who(ok=PARTNER_KINDS), body=lambda c: {"url": HOOK_URL, "event_types": ["*"]}
    ),
    "list_webhook_subscriptions": Operation(who(ok=PARTNER_KINDS)),
    "get_webhook_subscription": Operation(WEBHOOK_OWNERS, ids=_subscription_id),
    "update_webhook_subscription": Operation(
        WEBHOOK_OWNERS, ids=_subscription_id, body=lambda c: {"description": "probe"}
    ),
    "delete_webhook_subscription": Operation(WEBHOOK_OWNERS, ids=_spare_subscription_id),
    "rotate_webhook_secret": Operation(WEBHOOK_OWNERS, ids=_subscription_id),
    "list_webhook_deliveries": Operation(WEBHOOK_OWNERS, ids=_subscription_id),
    "redeliver_webhook_events": Operation(
        WEBHOOK_OWNERS, ids=_subscription_id, body=lambda c: {"after": "0", "through": "1"}
    ),
    "list_audit_entries": Operation(ADMIN_ONLY),
}


def _guest_code_body(call: Call) -> dict[str, str]:
    email = unique_email("code")
    return {"email": email, "code": call.live.sign_in_code_sync(email)}


def allowed(status: int) -> bool:
    """A call the policy let through: it succeeded, or the domain refused it on its merits."""
    return 200 <= status < 300 or (400 <= status < 500 and status not in (401, 403, 404, 429))


def outcome_holds(rule: Rule, status: int) -> bool:
    """`status` is what `rule` promises (OWN: on the caller's own record)."""
    if rule in (Rule.OK, Rule.OWN):
        return allowed(status)
    return status == int(rule.value)


METHODS = ("get", "put", "post", "delete", "patch")


def operations(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """operationId -> (METHOD, path) for every operation of an OpenAPI document."""
    found: dict[str, tuple[str, str]] = {}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS:
                key = operation.get("operationId") or f"(no operationId) {method} {path}"
                found[key] = (method.upper(), path)
    return found


def uncovered(document: dict[str, Any], policy: dict[str, Operation]) -> list[str]:
    """What keeps the policy from matching the document: operations without an entry, and
    entries whose operation is gone. Empty when they match."""
    ops = operations(document)
    problems = [
        f"no access policy for {key} ({method} {path}): add it to tests/access_policy.py"
        for key, (method, path) in sorted(ops.items())
        if key not in policy
    ]
    problems += [
        f"policy entry {key} names no operation of the document: remove or rename it"
        for key in sorted(policy)
        if key not in ops
    ]
    problems += [
        f"policy entry {key} has no rule for {kind}"
        for key, entry in sorted(policy.items())
        for kind in KINDS
        if kind not in entry.rules
    ]
    return problems
