"""Models, one module per aggregate; importing this package registers them all."""

from casework.models.access_grants import AccessGrant, AccessGrantStatus
from casework.models.audit import AuditEvent
from casework.models.cases import Case, CaseCounter, CaseOffence, Evidence, Victim, case_offence_victims
from casework.models.encryption_keys import EncryptionKey
from casework.models.exports import Export, ExportKind, ExportStatus
from casework.models.identifiers import CaseIdentifier, Identifier
from casework.models.notifications import Notification, NotificationKind
from casework.models.organisations import Organisation, OrganisationKind
from casework.models.reference import AbuseType, Agency, OffenceCode, Platform, State
from casework.models.referrals import Consent, Referral, ReferralEvent, TakedownItem
from casework.models.users import MfaRecoveryCode, PendingStep, Role, User, UserSession

__all__ = [
    "AbuseType",
    "AccessGrant",
    "AccessGrantStatus",
    "Agency",
    "AuditEvent",
    "Case",
    "CaseCounter",
    "CaseIdentifier",
    "CaseOffence",
    "Consent",
    "EncryptionKey",
    "Evidence",
    "Export",
    "ExportKind",
    "ExportStatus",
    "Identifier",
    "MfaRecoveryCode",
    "Notification",
    "NotificationKind",
    "OffenceCode",
    "Organisation",
    "OrganisationKind",
    "PendingStep",
    "Platform",
    "Referral",
    "ReferralEvent",
    "Role",
    "State",
    "TakedownItem",
    "User",
    "UserSession",
    "Victim",
    "case_offence_victims",
]
