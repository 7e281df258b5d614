"""Checklist step 7: the invite and password-reset flows really send mail (intrusive)."""

from fixtures.catalog import check
from fixtures.expect import expect

from .conftest import DELIVERY_MODES


def _confirm(flow: dict, statuses: tuple[str, ...]) -> None:
    expect("[adinsights.ses] delivery", flow["mode"], "in", DELIVERY_MODES)
    expect("SES delivery counter", flow.get("error"), "==", None)
    response = flow["response"]
    expect("[STATUS]", response.outcome, "in", statuses)
    if flow["before"] is not None:
        expect(f"SES delivery attempts ({flow['mode']}) after the flow", flow["after"], ">",
               flow["before"], note=f"before: {flow['before']:g}")


@check("adinsights.ses.smoke.invite", severity="high", runbook="ses.md#invite-mail-delivered",
       needs=("api", "tenant", "ses"), intrusive=True)
def test_invite_sends_mail(diag, ses_settings, mail_flow):
    tenant = diag.profile.tenants[0].name
    email = ses_settings["invite_email"] or f"ses-smoke-invite@{ses_settings['identity']}"
    flow = mail_flow(lambda: diag.http.post(
        "api", "/api/users/invite/", headers=diag.auth(tenant),
        json_body={"email": email, "role": ses_settings["invite_role"]}))
    _confirm(flow, ("200", "201"))


@check("adinsights.ses.smoke.password_reset",
       severity="high", runbook="ses.md#password-reset-mail-delivered",
       needs=("api", "ses"), intrusive=True)
def test_password_reset_sends_mail(diag, ses_settings, mail_flow):
    email = ses_settings["reset_email"]
    expect("[adinsights.ses] reset_email (an address with an account)", email, "!=", "")
    flow = mail_flow(lambda: diag.http.post("api", "/api/auth/password-reset/",
                                            json_body={"email": email}))
    _confirm(flow, ("200", "202"))
