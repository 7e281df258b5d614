"""Checklist steps 5 and 6: the sender address and the optional configuration set."""

from fixtures.catalog import check
from fixtures.expect import expect


@check("adinsights.ses.config.from_address", severity="critical", runbook="ses.md#sender-address",
       category="misconfiguration")
def test_from_address(email_env, identity):
    sender = email_env.get("EMAIL_FROM_ADDRESS", "")
    expected = email_env.get("SES_EXPECTED_FROM_DOMAIN", "").lower()
    expect("EMAIL_FROM_ADDRESS", sender, "!=", "")
    expect(f"domain of EMAIL_FROM_ADDRESS {sender}", sender.rsplit("@", 1)[-1].lower(), "==",
           expected, note="SES_EXPECTED_FROM_DOMAIN")
    expect("SES_EXPECTED_FROM_DOMAIN", expected, "==", identity,
           note="the SES domain identity the profile names ([adinsights.ses] identity)")


@check("adinsights.ses.config.configuration_set", severity="medium",
       runbook="ses.md#configuration-set-exists", needs=("ses",))
def test_configuration_set(email_env, ses_call):
    name = email_env.get("SES_CONFIGURATION_SET", "")
    if not name:
        return  # optional: without one, mail goes out without event metrics
    found = ses_call("ses", "describe_configuration_set", ConfigurationSetName=name)
    expect(f"SES configuration set {name}",
           found.answer.get("ConfigurationSet", {}).get("Name"), "==", name,
           note=found.error or None)
