"""All writes of capture: build forms and landing pages, remove and restore forms (``forms``),
take public submissions and replay the failed ones (``submissions``), confirm double opt-in
(``optin``).

The submission pipeline (``do_submit_form``) is the promise "nothing captured is lost": the raw
journal row is inserted first, and the lead, its consents and the confirmation email are made in
a savepoint of the same transaction. A lead refusal marks the row ``rejected``; any other failure
rolls the savepoint back, keeps the row ``failed`` with the error, and ``leadbase replay`` runs
it again later. Spam gets a ``spam`` row and no lead. Actions raise CaptureError, never HTTP.
``do_submit_forms`` takes several posts in one transaction with the same outcome for each
(``leadbase.capture.intake`` groups the posts of a web process).
"""

from leadbase.capture.actions.forms import (
    FIELD_TYPES,
    NO_ORIGIN,
    UTM_KEYS,
    clean_origin,
    do_create_form,
    do_remove_form,
    do_restore_form,
    do_save_landing_page,
    do_update_form,
    form_has_history,
    form_problems,
)
from leadbase.capture.actions.optin import do_confirm_optin, do_send_new_link, optin_state
from leadbase.capture.actions.submissions import (
    SubmitJob,
    SubmitMeta,
    SubmitResult,
    do_replay_submission,
    do_submit_form,
    do_submit_forms,
    is_checked,
    prepare,
)

__all__ = [
    "FIELD_TYPES",
    "NO_ORIGIN",
    "UTM_KEYS",
    "clean_origin",
    "SubmitJob",
    "SubmitMeta",
    "SubmitResult",
    "do_confirm_optin",
    "do_send_new_link",
    "optin_state",
    "do_create_form",
    "do_remove_form",
    "do_replay_submission",
    "do_restore_form",
    "do_save_landing_page",
    "do_submit_form",
    "do_submit_forms",
    "do_update_form",
    "form_has_history",
    "form_problems",
    "is_checked",
    "prepare",
]
