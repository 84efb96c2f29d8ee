//! The actions that audit records name. One vocabulary for the log, the API and the
//! docs: `<object>.<verb>`.

/// An organization was created.
pub const ORGANIZATION_CREATE: &str = "organization.create";
/// A contact (and the PHI it holds) was created.
pub const CONTACT_CREATE: &str = "contact.create";
/// A contact's PHI was read.
pub const CONTACT_READ: &str = "contact.read";
/// A contact's PHI was changed.
pub const CONTACT_UPDATE: &str = "contact.update";
/// A contact was deleted.
pub const CONTACT_DELETE: &str = "contact.delete";
/// A lookup by blind index found (or did not find) a contact.
pub const CONTACT_LOOKUP: &str = "contact.lookup";
/// A new data key version became active.
pub const KEY_ROTATE: &str = "key.rotate";
/// Data keys were re-wrapped under a new master key version.
pub const MASTER_KEY_ROTATE: &str = "master_key.rotate";
/// Rows were re-encrypted under the active data key.
pub const KEY_REENCRYPT: &str = "key.reencrypt";
/// Old data key versions were retired.
pub const KEY_RETIRE: &str = "key.retire";
/// The audit log was exported.
pub const AUDIT_EXPORT: &str = "audit.export";
/// The audit log was verified.
pub const AUDIT_VERIFY: &str = "audit.verify";
/// carepost started serving.
pub const SERVER_START: &str = "server.start";
/// A message was accepted for delivery (SMTP or API).
pub const MESSAGE_ACCEPT: &str = "message.accept";
/// A message's status, recipients and delivery evidence were read.
pub const MESSAGE_READ: &str = "message.read";
/// One delivery attempt to one recipient ended (delivered, deferred, bounced, expired).
pub const MESSAGE_DELIVERY: &str = "message.delivery";
/// The sandbox mailbox was listed.
pub const SANDBOX_LIST: &str = "sandbox.list";
/// A captured message was read from the sandbox mailbox.
pub const SANDBOX_READ: &str = "sandbox.read";
/// An SMTP submission credential was created.
pub const SMTP_USER_CREATE: &str = "smtp_user.create";
/// An SMTP submission credential was revoked.
pub const SMTP_USER_REVOKE: &str = "smtp_user.revoke";
/// A DKIM signing key was created for a sending domain.
pub const DKIM_KEY_CREATE: &str = "dkim_key.create";
/// The protection policy refused a message (nothing was stored).
pub const MESSAGE_BLOCK: &str = "message.block";
/// The quarantine was listed.
pub const QUARANTINE_LIST: &str = "quarantine.list";
/// A held message was viewed.
pub const QUARANTINE_READ: &str = "quarantine.read";
/// A held message was released for delivery.
pub const QUARANTINE_RELEASE: &str = "quarantine.release";
/// A held message was rejected (by a reviewer, or when its hold expired).
pub const QUARANTINE_REJECT: &str = "quarantine.reject";
/// The contacts' names were read to build the DLP index of patient names (in memory only).
pub const CONTACT_NAME_INDEX: &str = "contact.name_index";
/// An address was added to the suppression list (it bounced permanently).
pub const SUPPRESSION_ADD: &str = "suppression.add";
/// The suppression list was read.
pub const SUPPRESSION_LIST: &str = "suppression.list";
/// An address was removed from the suppression list.
pub const SUPPRESSION_REMOVE: &str = "suppression.remove";
/// An organization's protection rules were replaced through the API.
pub const POLICY_UPDATE: &str = "policy.update";
