"""All models in one import, for Alembic and for callers."""

from relay.storage.admin import (
    AddressBook,
    AuditEntry,
    Campaign,
    Contact,
    ImportJob,
    messages_archive,
)
from relay.storage.base import Base
from relay.storage.compliance import (
    ALL_CHANNELS,
    ConsentRecord,
    LedgerDigest,
    LedgerHead,
    NumberRange,
    OptoutReview,
    StopChange,
    StopEntry,
)
from relay.storage.growth import Attribution, Click, GrowthCursor, Link
from relay.storage.messaging import (
    MESSAGE_STATUSES,
    Event,
    Flow,
    InboundMessage,
    Message,
    MessageHistory,
    Template,
)
from relay.storage.people import ROLES, Invitation, User, VerificationCode
from relay.storage.replies import InboundNumber, Survey, SurveyResponse
from relay.storage.tenancy import (
    ApiKey,
    ConnectorInbox,
    Installation,
    Provider,
    SenderName,
    Tenant,
    TenantProvider,
    WritebackClaim,
)

__all__ = [
    "Attribution",
    "Click",
    "GrowthCursor",
    "Link",
    "ROLES",
    "Invitation",
    "User",
    "VerificationCode",
    "InboundNumber",
    "Survey",
    "SurveyResponse",
    "AddressBook",
    "AuditEntry",
    "Campaign",
    "Contact",
    "ImportJob",
    "messages_archive",
    "ALL_CHANNELS",
    "MESSAGE_STATUSES",
    "ApiKey",
    "Base",
    "ConnectorInbox",
    "ConsentRecord",
    "Event",
    "Flow",
    "InboundMessage",
    "Installation",
    "Message",
    "MessageHistory",
    "LedgerDigest",
    "LedgerHead",
    "NumberRange",
    "OptoutReview",
    "Provider",
    "SenderName",
    "StopChange",
    "StopEntry",
    "Template",
    "Tenant",
    "TenantProvider",
    "WritebackClaim",
]
