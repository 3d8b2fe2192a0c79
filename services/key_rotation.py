"""Key rotation: re-encrypt every sensitive value (ID numbers, sensitive custom fields, staff
TOTP secrets) under the newest key, in batches."""
from peewee import JOIN

import models
from models import Customer, CustomField, CustomFieldValue
from services import audit, crypto, totp

ROTATE_BATCH = 500


def rotate_keys(actor, batch=ROTATE_BATCH):
    """Re-encrypt every sensitive value (and the staff TOTP secrets) under the newest key, and
    recompute the ID numbers' lookup hashes, in batches of ``batch`` rows (one transaction
    each; a run stopped half way is safe to run again). Returns counts, also written to the
    audit trail."""
    ids = Customer.select(Customer.id, Customer.id_number_enc).where(
        Customer.id_number_enc.is_null(False))
    values = (CustomFieldValue.select(CustomFieldValue.id, CustomFieldValue.value)
              .join(CustomField, JOIN.INNER).where(CustomField.sensitive == True))
    counts = {"id_numbers": _in_batches(ids, Customer, _rotate_id_number, batch),
              "field_values": _in_batches(values, CustomFieldValue, _rotate_value, batch)}
    counts["totp_secrets"] = totp.rotate_secrets(batch)  # staff 2FA secrets, sealed the same way
    audit.record(actor, "sensitive.rotate_keys", "database", after=counts)
    return counts


def _in_batches(query, model, rewrite, batch):
    """``rewrite`` each row of ``query`` in id order, ``batch`` rows per transaction; returns
    how many rows there were."""
    done, last = 0, 0
    while True:
        with models.atomic():
            rows = list(query.where(model.id > last).order_by(model.id).limit(batch))
            for row in rows:
                rewrite(row)
        if not rows:
            return done
        done += len(rows)
        last = rows[-1].id


def _rotate_id_number(row):
    number = crypto.decrypt(row.id_number_enc)
    Customer.update(id_number_enc=crypto.rotate(row.id_number_enc),
                    id_number_hmac=crypto.lookup_hash(number)).where(
        Customer.id == row.id).execute()


def _rotate_value(row):
    CustomFieldValue.update(value=crypto.seal(crypto.unseal(row.value))).where(
        CustomFieldValue.id == row.id).execute()
