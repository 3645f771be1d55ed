"""Notice templates: list what serves each kind, channel and language (the file or a staff
override), preview one with sample data, override it, and drop the override (the file serves
again). Rules: docs/notifications.md, Templates; who: `notification_service.access`."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from hotel_common.contract import example
from hotel_common.deps import SessionDep
from hotel_common.errors import ProblemError, problems
from hotel_common.principal import PrincipalDep
from hotel_common.strict import StrictModel
from pydantic import BaseModel, Field

from notification_service import access, rendering, templates
from notification_service.models import Kind
from notification_service.rendering import Overrides, Source
from notification_service.samples import SAMPLES, variables_of

router = APIRouter(prefix="/api/v1/notification-templates", tags=["notification-templates"])

ChannelName = Literal["email", "inbox", "sms", "push"]
LanguageName = Literal["en", "zh-Hans", "zh-Hant"]
TEXT_MAX = 20_000

READ_FORBIDDEN = {403: "forbidden: managers, marketing and the front desk only"}
WRITE_FORBIDDEN = {403: "forbidden: managers only"}
NOT_FOUND = {404: "template_not_found: no such kind, channel or language"}
REFUSED = (
    "template_syntax_error (with the line), unknown_template_variable (naming it), "
    "template_render_error (fails with the kind's sample, e.g. refused by the sandbox), "
    "template_invalid (no subject on a long text, html on a short one), validation_error"
)


class TemplateOut(BaseModel):
    kind: Kind
    channel: ChannelName
    language: LanguageName
    source: Literal["file", "override"] = Field(
        description="override: a staff text in the database; file: the shipped default"
    )
    subject: str | None = Field(
        description="email and inbox: the subject line; push: the title (null: the long "
        "text's subject); null on a file whose text is not written yet"
    )
    body: str | None
    html: str | None = Field(
        description="email only: the HTML content put in the shared layout (null: built "
        "from the body: escaped, paragraphs, links clickable)"
    )
    variables: list[str] = Field(description="The variables this kind's templates may use")
    version: int | None = Field(default=None, description="The override's version (a count)")
    updated_at: datetime | None = Field(default=None, description="UTC")
    updated_by: str | None = None


class TemplateList(BaseModel):
    items: list[TemplateOut]


class TemplateIn(StrictModel):
    subject: str | None = Field(default=None, max_length=1000)
    body: str = Field(min_length=1, max_length=TEXT_MAX)
    html: str | None = Field(default=None, max_length=TEXT_MAX)


class PreviewIn(StrictModel):
    kind: Kind
    channel: ChannelName
    language: LanguageName
    # A template to try (not stored); absent: the one that serves now (override or file).
    template: TemplateIn | None = None
    # Values to show instead of the kind's sample (the others stay the sample's).
    variables: dict[str, Any] | None = None


class PreviewOut(BaseModel):
    language: LanguageName = Field(description="The language the text is in (after fallback)")
    subject: str
    body: str
    html: str | None


EXAMPLE: dict[str, Any] = {
    "kind": "reservation_expired",
    "channel": "sms",
    "language": "en",
    "source": "override",
    "subject": None,
    "body": "{{ property_name }}: request {{ confirmation_number }} lapsed; nothing is charged.",
    "html": None,
    "variables": ["check_in", "check_out", "confirmation_number", "guest_name", "property_name"],
    "version": 2,
    "updated_at": "2030-05-20T08:15:01Z",
    "updated_by": "staff:7",
}
PREVIEW = {
    "language": "en",
    "subject": "Booking request expired: Harbour View Hotel, confirmation number HV-7K3Q9D",
    "body": "Harbour View Hotel: request HV-7K3Q9D lapsed; nothing is charged.\n",
    "html": None,
}
BAD_PATH = {422: "validation_error: a malformed path"}


def _out(entry: templates.Entry) -> TemplateOut:
    return TemplateOut(
        kind=Kind(entry.kind),
        channel=entry.channel,
        language=entry.language,
        source=entry.source,
        subject=entry.subject,
        body=entry.body,
        html=entry.html,
        variables=sorted(variables_of(entry.kind)),
        version=entry.version,
        updated_at=entry.updated_at,
        updated_by=entry.updated_by,
    )


def _source(body: TemplateIn) -> Source:
    return Source(body=body.body, subject=body.subject, html=body.html, origin="override")


@router.get(
    "",
    response_model=TemplateList,
    summary="List notice templates",
    dependencies=[access.may_read_templates],
    responses={
        200: example({"items": [EXAMPLE]}),
        **problems({**READ_FORBIDDEN, 422: "validation_error: an unknown filter value"}),
    },
)
async def list_notification_templates(
    session: SessionDep,
    kind: Annotated[Kind | None, Query()] = None,
    channel: Annotated[ChannelName | None, Query()] = None,
    language: Annotated[LanguageName | None, Query()] = None,
) -> TemplateList:
    """Every kind x channel x language (filtered), each with the text that serves it."""
    entries = await templates.listing(session, kind.value if kind else None, channel, language)
    return TemplateList(items=[_out(e) for e in entries])


@router.post(
    "/preview",
    response_model=PreviewOut,
    summary="Preview a notice template",
    dependencies=[access.may_read_templates],
    responses={200: example(PREVIEW), **problems({**READ_FORBIDDEN, 422: REFUSED})},
)
async def preview_notification_template(session: SessionDep, body: PreviewIn) -> PreviewOut:
    """A template (the given one, else the one serving now) rendered with the kind's sample,
    or with the caller's variables (only ones the kind provides) over it."""
    kind = body.kind.value
    allowed = variables_of(kind)
    given = body.variables or {}
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ProblemError(
            422,
            "unknown_template_variable",
            f"A {kind} notice does not provide {', '.join(unknown)}.",
            variables=unknown,
        )
    context = SAMPLES.get(body.kind, {}) | given
    overrides: Overrides = await templates.overrides_of(session, kind)
    if body.template is not None:
        templates.check(kind, body.channel, _source(body.template), body.language)
        overrides[(body.channel, body.language)] = _source(body.template)
    try:
        rendered = rendering.render_with(kind, body.channel, body.language, context, overrides)
    except Exception as error:
        raise ProblemError(
            422, "template_render_error", f"{type(error).__name__}: {error}"
        ) from None
    return PreviewOut(
        language=rendered.language,
        subject=rendered.subject,
        body=rendered.body,
        html=rendered.html,
    )


@router.get(
    "/{kind}/{channel}/{language}",
    response_model=TemplateOut,
    summary="Get a notice template",
    dependencies=[access.may_read_templates],
    responses={200: example(EXAMPLE), **problems({**READ_FORBIDDEN, **NOT_FOUND, **BAD_PATH})},
)
async def get_notification_template(
    session: SessionDep, kind: str, channel: str, language: str
) -> TemplateOut:
    """The template serving this kind, channel and language: the override, else the file (no
    language fallback here: each language is its own entry)."""
    return _out(await templates.entry(session, kind, channel, language))


@router.put(
    "/{kind}/{channel}/{language}",
    response_model=TemplateOut,
    summary="Override a notice template",
    dependencies=[access.may_write_templates],
    responses={200: example(EXAMPLE), **problems({**WRITE_FORBIDDEN, **NOT_FOUND, 422: REFUSED})},
)
async def put_notification_template(
    session: SessionDep,
    principal: PrincipalDep,
    kind: str,
    channel: str,
    language: str,
    body: TemplateIn,
) -> TemplateOut:
    """Checked before it is stored (a refused one writes nothing); the same text again changes
    nothing. The next notice of the kind on the channel in the language uses it."""
    entry = await templates.save(session, kind, channel, language, _source(body), principal.id)
    await session.commit()
    return _out(entry)


@router.delete(
    "/{kind}/{channel}/{language}",
    status_code=204,
    summary="Drop a template override",
    dependencies=[access.may_write_templates],
    responses={
        204: {"description": "The override is gone (or there was none)"},
        **problems({**WRITE_FORBIDDEN, **NOT_FOUND, **BAD_PATH}),
    },
)
async def delete_notification_template(
    session: SessionDep, kind: str, channel: str, language: str
) -> Response:
    """The file serves again (no override: nothing to do, still 204)."""
    await templates.remove(session, kind, channel, language)
    await session.commit()
    return Response(status_code=204)
