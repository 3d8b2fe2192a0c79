"""Encryption at rest: MultiFernet keys from the settings (first encrypts, all decrypt), key
rotation through `cards rotate-keys`, the lookup HMAC, masking and the ID number's rules."""
import pytest
from click.testing import CliRunner

from backoffice.cli import cli
from config import ConfigError
from models import AuditEvent, Customer, CustomField, CustomFieldValue
from services import DomainError, card_field_edit, crypto, runtime
from services.actors import Actor
from tests import factories

ID = "11010519491231002X"
OLD, NEW = crypto.new_key(), crypto.new_key()


@pytest.fixture
def keys(monkeypatch):
    """Set FIELD_ENCRYPTION_KEYS for the services (and the CLI, through the environment)."""
    runtime.get("SECRET_KEY")

    def use(value):
        monkeypatch.setitem(runtime.settings, "FIELD_ENCRYPTION_KEYS", value)
        monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", value)
    return use


def test_values_round_trip_and_ciphertext_differs_each_time(keys):
    keys(OLD)
    one, two = crypto.encrypt(ID), crypto.encrypt(ID)
    assert one != two and ID not in one
    assert crypto.decrypt(one) == crypto.decrypt(two) == ID
    sealed = crypto.seal(["a", "b"])
    assert crypto.is_sealed(sealed) and crypto.unseal(sealed) == ["a", "b"]
    assert crypto.seal(None) is None and crypto.unseal("clear") == "clear"


def test_a_value_under_an_old_key_still_decrypts_and_a_removed_key_fails_loudly(keys):
    keys(OLD)
    token = crypto.encrypt(ID)
    keys(f"{NEW},{OLD}")
    assert crypto.decrypt(token) == ID
    newer = crypto.encrypt(ID)
    keys(NEW)
    assert crypto.decrypt(newer) == ID
    with pytest.raises(crypto.UnreadableValue):
        crypto.decrypt(token)


def test_rotation_re_encrypts_everything_and_keeps_it_readable(keys, db, database_url):
    keys(OLD)
    field = CustomField.create(key="passport", label_zh="护照", label_en="Passport",
                               sensitive=True)
    plain = CustomField.create(key="nickname", label_zh="昵称", label_en="Nickname")
    cards = [factories.make_customer(account=False)[0] for _ in range(3)]
    for n, card in enumerate(cards):
        card_field_edit.update_card_fields(card, {"id_number": ID if n == 0 else None,
                                                "passport": f"E{n:08d}", "nickname": "x"},
                                         Actor.system("tests"), "admin")
    before_ids = {c.id: c.id_number_enc for c in Customer.select()}
    before_values = {v.id: v.value for v in CustomFieldValue.select()}

    keys(f"{NEW},{OLD}")
    result = CliRunner().invoke(cli, ["rotate-keys", "--batch", "2"],
                                env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert "1 ID numbers, 3 sensitive field values" in result.output

    keys(NEW)  # the old key is gone: everything must read under the new one alone
    card = Customer.get_by_id(cards[0].id)
    assert card.id_number_enc != before_ids[card.id]
    assert crypto.decrypt(card.id_number_enc) == ID
    assert card_field_edit.find_by_id_number(ID).id == card.id
    for value in CustomFieldValue.select():
        if value.field_id == field.id:
            assert value.value != before_values[value.id]
            assert crypto.unseal(value.value).startswith("E0000000")
        else:
            assert value.field_id == plain.id and value.value == "x"  # clear values untouched
    assert AuditEvent.get(AuditEvent.action == "sensitive.rotate_keys").after == {
        "id_numbers": 1, "field_values": 3, "totp_secrets": 0}


def test_rotation_stops_clearly_when_a_key_is_missing(keys, db, database_url):
    keys(OLD)
    card, _ = factories.make_customer(account=False)
    Customer.update(id_number_enc=crypto.encrypt(ID)).where(Customer.id == card.id).execute()
    keys(NEW)
    result = CliRunner().invoke(cli, ["rotate-keys"], env={"DATABASE_URL": database_url})
    assert result.exit_code == 1 and "keep every old key" in result.output


def test_new_key_prints_a_usable_key():
    result = CliRunner().invoke(cli, ["rotate-keys", "--new-key"])
    assert result.exit_code == 0
    assert crypto.Fernet(result.output.strip().encode())


def test_lookup_hash_is_stable_keyed_and_independent_of_rotation(keys, monkeypatch):
    keys(OLD)
    first = crypto.lookup_hash(ID)
    keys(f"{NEW},{OLD}")
    assert crypto.lookup_hash(ID) == first and len(first) == 64 and ID not in first
    monkeypatch.setitem(runtime.settings, "FIELD_HMAC_KEY", "another key")
    assert crypto.lookup_hash(ID) != first


def test_production_refuses_to_guess_keys(keys, monkeypatch):
    monkeypatch.setitem(runtime.settings, "ENV", "production")
    keys("")
    with pytest.raises(ConfigError, match="FIELD_ENCRYPTION_KEYS"):
        crypto.encrypt("x")
    keys(NEW)
    with pytest.raises(ConfigError, match="FIELD_HMAC_KEY"):
        crypto.encrypt("x")
    monkeypatch.setitem(runtime.settings, "FIELD_HMAC_KEY", "a long random secret")
    assert crypto.decrypt(crypto.encrypt("x")) == "x"
    keys("not-a-key")
    with pytest.raises(ConfigError, match="not a Fernet key"):
        crypto.encrypt("x")


def test_masking():
    assert crypto.mask("110105194912310021") == "110***********0021"
    assert crypto.mask("E12345678") == "E12**5678"
    assert crypto.mask("abcde") == "a***e"
    assert crypto.mask("ab") == "**"
    assert crypto.mask(["x", "y"]) == "x*y"
    assert crypto.mask(None) is None and crypto.mask("") is None


@pytest.mark.parametrize("typed, expected", [
    (ID, ID), ("11010519491231002x", ID), ("１１０１０５１９４９１２３１００２Ｘ", ID),
    ("110105 1949 1231 002X", ID), ("110105491231002", ID),  # 15 digits: converted
    ("", None), (None, None),
])
def test_id_numbers_are_normalised(typed, expected):
    assert crypto.clean_id_number(typed) == expected


@pytest.mark.parametrize("typed, message", [
    ("110105194912310021", "check digit"), ("11010519491231002", "18 characters"),
    ("1101051949123100XX", "18 characters"), ("110105194902300011", "does not exist"),
    ("110105289912310021", "does not exist"), ("abc", "18 characters"),
])
def test_bad_id_numbers_are_refused(typed, message):
    with pytest.raises(DomainError, match=message) as exc:
        crypto.clean_id_number(typed)
    assert exc.value.field == "id_number"
