import re

import pytest
from django.core import mail
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # tests/conftest.py's staff
NEW = "a brand new passphrase 2026"
NEW_PASSWORD = re.compile(r"^New password( \*)?$")  # the label, not "New password confirmation"


def test_a_nurse_who_forgot_the_password_sets_a_new_one_and_changes_it_later(live_server, browser, staff, sign_in,
                                                                            shot, settings):
    settings.PORTAL_BASE_URL = live_server.url
    page = browser.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("nurse@north.test")
    shot(page, "70-forgot-password")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)

    page.goto(link)
    expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    page.get_by_label(NEW_PASSWORD).fill("short")
    page.get_by_label("New password confirmation").fill("short")
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_text("This password is too short.")).to_be_visible()
    shot(page, "71-new-password-refused")
    page.get_by_label(NEW_PASSWORD).fill(NEW)
    page.get_by_label("New password confirmation").fill(NEW)
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_role("heading", name="Your new password is set")).to_be_visible()

    sign_in(page, "nurse@north.test", NEW)
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    page.get_by_role("link", name="Account").click()
    page.get_by_label("Old password").fill(NEW)
    page.get_by_label(NEW_PASSWORD).fill(PASSWORD + " again")
    page.get_by_label("New password confirmation").fill(PASSWORD + " again")
    shot(page, "72-change-password")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()


def test_a_physician_turns_on_two_factor_and_signs_in_with_a_code(live_server, browser, staff, sign_in, shot):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.test_two_factor import code_for, unthrottle

    page = browser.new_page()
    sign_in(page, "physician@north.test", PASSWORD)
    page.get_by_role("link", name="Account").click()
    page.get_by_role("link", name="Two-factor sign-in").click()
    qr = page.get_by_role("img", name="QR code for the authenticator app")
    expect(qr).to_be_visible()
    page.wait_for_function("document.querySelector('figure.qr img').complete")
    assert qr.evaluate("img => img.naturalWidth") > 100  # drawn, not a broken image
    shot(page, "73-two-factor-setup")
    device = TOTPDevice.objects.get(user=staff[("north", "physician")], confirmed=False)
    page.get_by_label("6-digit code").fill(code_for(device))
    page.get_by_role("button", name="Turn two-factor sign-in on").click()
    expect(page.get_by_text("Two-factor sign-in is on")).to_be_visible()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("ol.recovery-codes li")).to_have_count(10)
    shot(page, "73b-recovery-codes")
    page.get_by_role("button", name="I have saved them: continue").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "physician@north.test", PASSWORD)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    shot(page, "74-two-factor-code")
    device.refresh_from_db()
    unthrottle(device)
    page.get_by_label("Code").fill(code_for(device, offset_steps=1))  # the next code: not used yet
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
