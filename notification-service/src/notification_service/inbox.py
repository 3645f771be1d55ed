"""The guest's in-app inbox (issue 20): the app's copy of every notice that goes out to a guest.

`keep` is called by handlers._queue for each notice it queues, with the notice rendered for the
inbox (the long text: an SMS notice's short text is not what the app shows), in the handler's
transaction, so the copy exists exactly when the notice does (a redelivered event is handled
once; the unique `notification_id` is the second guard). Never a sign-in code (its body has
only a slot for the code, and the code is no message to keep) nor a staff digest. A notice
queued already suppressed is not kept: the guest was not told it. Fallback rows of one notice
(the same notice on the next channel) are not kept again: the message is keyed by the first
notice's id, and carries that id as its own.

Whose it is: the contact hashes of the notice's address and phone (preferences.contact_hash), and
the guest profile it went to. A guest signed in by email finds the messages sent to that address,
or to their profile (which the email belongs to: an email is one profile's); a guest signed in
by phone those sent to that number.
"""

from datetime import datetime

from hotel_common.errors import NotFound
from hotel_common.principal import Principal
from hotel_common.time import UtcDateTime, utcnow
from sqlalchemy import ColumnElement, Text, delete, false, inspect, or_, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service.models import Kind, Notification, Status
from notification_service.preferences import NoticeContact, contact_hash
from notification_service.rendering import Rendered

NOT_KEPT = frozenset({Kind.SIGN_IN_CODE, Kind.STAFF_DIGEST, Kind.PARTNER_WEBHOOK_DISABLED})


class InboxMessage(SQLModel, table=True):
    __tablename__ = "inbox_messages"

    # The first notice's id: one message per notice, whatever channels it went on.
    id: str = Field(primary_key=True, max_length=36)
    notification_id: str = Field(max_length=36, unique=True)
    guest_id: str | None = Field(default=None, max_length=36, index=True)
    email_hash: str | None = Field(default=None, max_length=64, index=True)
    phone_hash: str | None = Field(default=None, max_length=64, index=True)
    kind: str = Field(max_length=40)
    title: str = Field(max_length=500)
    body: str = Field(sa_type=Text)
    reservation_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    read_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


def _title(subject: str, body: str) -> str:
    if subject.strip():
        return subject.strip()[:500]
    return (body.strip().splitlines() or [""])[0][:500]


async def keep(
    session: AsyncSession, notification: Notification, copy: Rendered | None = None
) -> None:
    """Put the app's copy of `notification` in its guest's inbox (never a sign-in code).
    `copy`: the notice rendered for the inbox (the long text, whatever the notice's channel);
    None: the notification's own subject and body."""
    if notification.kind in NOT_KEPT or notification.fallback_of is not None:
        return
    if notification.status is Status.SUPPRESSED:
        return
    subject, body = (copy.subject, copy.body) if copy else (notification.subject, notification.body)
    email = (notification.email or "").strip()
    phone = (notification.phone or "").strip()
    if not email and not phone and notification.guest_id is None:
        return
    if inspect(notification).pending:
        # Added in this transaction and not written yet (handlers._queue): only a message
        # added here too can name it; no query.
        if any(
            isinstance(kept, InboxMessage) and kept.notification_id == notification.id
            for kept in session.new
        ):
            return
    else:
        taken = await session.exec(
            select(InboxMessage.id).where(col(InboxMessage.notification_id) == notification.id)
        )
        if taken.first() is not None:
            return
    session.add(
        InboxMessage(
            id=notification.id,
            notification_id=notification.id,
            guest_id=notification.guest_id,
            email_hash=contact_hash("email", email) if email else None,
            phone_hash=contact_hash("phone", phone) if phone else None,
            kind=str(notification.kind),
            title=_title(subject, body),
            body=body,
            reservation_id=notification.reservation_id,
            created_at=notification.created_at,
        )
    )


def owned_by(principal: Principal) -> ColumnElement[bool]:
    """The messages of a signed-in guest (by email and/or phone)."""
    conditions: list[ColumnElement[bool]] = []
    if principal.email:
        email_hash = contact_hash("email", principal.email)
        conditions.append(col(InboxMessage.email_hash) == email_hash)
        profiles = select(NoticeContact.guest_id).where(
            col(NoticeContact.contact_hash) == email_hash
        )
        conditions.append(col(InboxMessage.guest_id).in_(profiles))
    if principal.phone:
        conditions.append(col(InboxMessage.phone_hash) == contact_hash("phone", principal.phone))
    return or_(*conditions) if conditions else false()


async def mark_read(session: AsyncSession, principal: Principal, message_id: str) -> InboxMessage:
    message = (
        await session.exec(
            select(InboxMessage).where(col(InboxMessage.id) == message_id, owned_by(principal))
        )
    ).first()
    if message is None:
        raise NotFound("inbox_message", message_id)
    if message.read_at is None:
        message.read_at = utcnow()
        session.add(message)
    return message


async def mark_all_read(session: AsyncSession, principal: Principal) -> int:
    done = await session.exec(
        update(InboxMessage)
        .where(owned_by(principal), col(InboxMessage.read_at).is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(done.rowcount or 0)


async def erase(session: AsyncSession, guest_id: str, emails: list[str], phones: list[str]) -> int:
    """Delete the erased guest's messages (by profile and by contact hashes)."""
    conditions: list[ColumnElement[bool]] = [col(InboxMessage.guest_id) == guest_id]
    hashes = [contact_hash("email", e) for e in emails if e.strip()]
    if hashes:
        conditions.append(col(InboxMessage.email_hash).in_(hashes))
    phone_hashes = [contact_hash("phone", p) for p in phones if p.strip()]
    if phone_hashes:
        conditions.append(col(InboxMessage.phone_hash).in_(phone_hashes))
    done = await session.exec(
        delete(InboxMessage).where(or_(*conditions)).execution_options(synchronize_session=False)
    )
    return int(done.rowcount or 0)
