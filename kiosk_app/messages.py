"""Message keys → translated text. Drivers, services and the server client raise errors with
a ``tr_key``; only this table turns a key into words, in the current language."""

from __future__ import annotations

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,  # marks strings for lupdate
    QCoreApplication,
)


def _t(source: object) -> str:
    # QT_TRANSLATE_NOOP hands back its source text, typed as object in the stubs
    return QCoreApplication.translate("messages", str(source))


def text(key: str) -> str:
    """The translated message for ``key``; an unknown key still gives a sensible sentence."""
    if not key:
        return ""
    if key.startswith("pay.failed."):
        reason = _PAY_FAILURES.get(key.removeprefix("pay.failed."), _MESSAGES["pay.failed"])
        return _t(reason) + " " + _t(_MESSAGES["pay.retry"])
    if key.startswith("server.auth."):  # sync.client.KioskAuthError: the server refuses this kiosk
        clock = key == "server.auth.stale_timestamp"
        return _t(_MESSAGES["server.auth.clock" if clock else "server.auth"])
    if key.startswith("server.rejected.") and key not in _MESSAGES:
        return _t(_MESSAGES["server.rejected"])
    return _t(_MESSAGES.get(key, _MESSAGES["error.unexpected"]))


def is_error(key: str) -> bool:
    return bool(key) and key not in _INFO and not key.startswith(("face.unavailable.", "face.hint.", "face.action."))


_INFO = {
    "pay.waiting",
    "pay.userpaying",
    "pay.success",
    "card.reading",
    "reg.pending_offline",
    "face.verified",
    "filing.already",
    "filing.filing",
    "filing.pending_offline",
    "identify.not_found",
    "topup.success",
    "refund.pending",
    "refund.none",
    "reprint.none",
    "checkin.none",
    "checkin.done",
    "reports.none",
    "reports.not_ready",
    "reports.printed",
    # bill payment (kiosk_app/features/bills/)
    "bills.none",
    "bills.covered",
    "bills.paid_from_account",
    "bills.qr_cancelled",
    "bills.qr_closing",
    # cashier window (kiosk_app/features/cashier/)
    "cashier.shift_opened",
    "cashier.shift_resumed",
    "cashier.locked",
    "cashier.nothing_open",
    "cashier.fully_covered",
    "cashier.paid",
    "cashier.refund_refunded",
    "cashier.refund_pending",
    "cashier.reconciled",
}

_PAY_FAILURES = {
    "NOTENOUGH": QT_TRANSLATE_NOOP("messages", "The balance of the payment account is not enough."),
    "AUTHCODEEXPIRE": QT_TRANSLATE_NOOP("messages", "The payment code has expired."),
    "AUTH_CODE_INVALID": QT_TRANSLATE_NOOP("messages", "The payment code is not valid."),
    "USERPAYING": QT_TRANSLATE_NOOP("messages", "The payment was not confirmed on the phone in time."),
    "already_paid": QT_TRANSLATE_NOOP("messages", "This registration has already been paid."),
    "amount_mismatch": QT_TRANSLATE_NOOP("messages", "The amount has changed since it was shown."),
}

_MESSAGES = {
    "device.error": QT_TRANSLATE_NOOP("messages", "A device is not working. Please ask the staff for help."),
    "device.unavailable": QT_TRANSLATE_NOOP("messages", "The device is not connected. Please ask the staff for help."),
    "device.timeout": QT_TRANSLATE_NOOP("messages", "The device did not answer in time. Please try again."),
    "device.protocol": QT_TRANSLATE_NOOP("messages", "The card could not be read correctly. Please place it again."),
    "card.read_failed": QT_TRANSLATE_NOOP(
        "messages", "The card was moved while it was being read. Please place it again and hold it still."
    ),
    "card.photo_unavailable": QT_TRANSLATE_NOOP("messages", "The photo on the ID card could not be read."),
    "sscard.not_social_security_card": QT_TRANSLATE_NOOP(
        "messages", "This card is not a social-security card. Please insert your social-security card."
    ),
    "sscard.pin_blocked": QT_TRANSLATE_NOOP(
        "messages", "This social-security card is locked. Please go to the service desk."
    ),
    "card.reading": QT_TRANSLATE_NOOP("messages", "Reading the card, please hold it still…"),
    "printer.error": QT_TRANSLATE_NOOP("messages", "The printer has a problem. Please ask the staff for your receipt."),
    "printer.paper_out": QT_TRANSLATE_NOOP(
        "messages", "The printer is out of paper. Please ask the staff for your receipt."
    ),
    "printer.cover_open": QT_TRANSLATE_NOOP("messages", "The printer cover is open. Please ask the staff for help."),
    "printer.offline": QT_TRANSLATE_NOOP(
        "messages", "The printer is not responding. Please ask the staff for your receipt."
    ),
    "printer.unavailable": QT_TRANSLATE_NOOP(
        "messages", "No printer is connected. Please ask the staff for your receipt."
    ),
    "printer.needs_staff": QT_TRANSLATE_NOOP(
        "messages", "This receipt may already have printed. The staff can reprint it."
    ),
    "server.unavailable": QT_TRANSLATE_NOOP(
        "messages", "The hospital system cannot be reached. Please try again in a moment."
    ),
    "server.timeout": QT_TRANSLATE_NOOP(
        "messages", "The hospital system is not answering. Please try again in a moment."
    ),
    "server.error": QT_TRANSLATE_NOOP("messages", "The hospital system reported an error. Please try again."),
    "server.rejected.slot_full": QT_TRANSLATE_NOOP(
        "messages", "That time is now fully booked. Please choose another time."
    ),
    "server.rejected.already_paid": QT_TRANSLATE_NOOP("messages", "This registration has already been paid."),
    "server.rejected.not_found": QT_TRANSLATE_NOOP("messages", "The record was not found. Please start again."),
    "reg.no_departments": QT_TRANSLATE_NOOP("messages", "No departments are open for registration today."),
    "reg.no_doctors": QT_TRANSLATE_NOOP("messages", "No doctors are on duty in this department today."),
    "reg.no_slots": QT_TRANSLATE_NOOP("messages", "This doctor has no free times left today."),
    "reg.doctor_full": QT_TRANSLATE_NOOP(
        "messages", "This doctor is fully booked today. Please choose another doctor."
    ),
    "pay.not_payment_code": QT_TRANSLATE_NOOP(
        "messages", "That is not a payment code. Please show the WeChat or Alipay payment code."
    ),
    "pay.waiting": QT_TRANSLATE_NOOP("messages", "Processing the payment…"),
    "pay.userpaying": QT_TRANSLATE_NOOP("messages", "Please confirm the payment on your phone."),
    "pay.success": QT_TRANSLATE_NOOP("messages", "Payment received."),
    "pay.failed": QT_TRANSLATE_NOOP("messages", "The payment did not go through."),
    "pay.unknown": QT_TRANSLATE_NOOP(
        "messages",
        "We could not confirm the payment yet. No money is lost: if it was charged, it will be "
        "registered or refunded automatically. Please ask at the cashier window.",
    ),
    "pay.retry": QT_TRANSLATE_NOOP("messages", "Please scan the payment code again, or go to the cashier window."),
    "server.rejected": QT_TRANSLATE_NOOP(
        "messages", "The hospital system refused the request. Please go to the service desk."
    ),
    "server.auth": QT_TRANSLATE_NOOP(
        "messages", "This kiosk is not enrolled with the hospital system, or was revoked. Please call IT."
    ),
    "server.auth.clock": QT_TRANSLATE_NOOP(
        "messages", "This kiosk's clock is wrong, so the hospital system refuses it. Please call IT."
    ),
    "error.unexpected": QT_TRANSLATE_NOOP(
        "messages", "Something went wrong. Please try again or ask the staff for help."
    ),
    "reg.pending_offline": QT_TRANSLATE_NOOP(
        "messages",
        "The hospital system is offline, so your registration is pending confirmation. Please take the slip "
        "and pay at the cashier window; if the time is taken meanwhile, the staff will rebook you.",
    ),
    "pay.offline_cashier": QT_TRANSLATE_NOOP(
        "messages",
        "Paying by QR code needs the hospital system, which is offline. Your place is kept; please pay at "
        "the cashier window.",
    ),
    # ---- bill payment (kiosk_app/features/bills/)
    "bills.none": QT_TRANSLATE_NOOP("messages", "You have nothing to pay at the moment."),
    "bills.select_one": QT_TRANSLATE_NOOP("messages", "Please choose at least one item to pay."),
    "bills.refused": QT_TRANSLATE_NOOP(
        "messages", "These items cannot be paid here right now. Please go to the cashier window."
    ),
    "bills.refused.already_paid": QT_TRANSLATE_NOOP(
        "messages", "An item was already paid elsewhere. The list has been updated; please check it again."
    ),
    "bills.refused.bill_changed": QT_TRANSLATE_NOOP(
        "messages", "An item changed since it was shown. The list has been updated; please check it again."
    ),
    "bills.refused.bill_cancelled": QT_TRANSLATE_NOOP(
        "messages", "The hospital cancelled an item. The list has been updated; please check it again."
    ),
    "bills.refused.bill_not_found": QT_TRANSLATE_NOOP(
        "messages", "An item is no longer open. The list has been updated; please check it again."
    ),
    "bills.refused.bill_not_locked": QT_TRANSLATE_NOOP(
        "messages", "The time to pay these items ran out. The list has been updated; please check it again."
    ),
    "bills.refused.bill_locked": QT_TRANSLATE_NOOP(
        "messages", "An item is being paid at another kiosk or window. Please try again in a few minutes."
    ),
    "bills.insurance_unavailable": QT_TRANSLATE_NOOP(
        "messages",
        "The medical insurance system is not answering, so nothing was charged. Please try again later or go to "
        "the cashier window.",
    ),
    "bills.lock_expired": QT_TRANSLATE_NOOP(
        "messages", "The time to pay ran out, so the amounts were worked out again. Please choose how to pay."
    ),
    "bills.covered": QT_TRANSLATE_NOOP("messages", "Your medical insurance pays all of it. There is nothing to pay."),
    "bills.paid_from_account": QT_TRANSLATE_NOOP("messages", "Paid from your prepaid account."),
    "bills.account_low": QT_TRANSLATE_NOOP(
        "messages", "The prepaid account balance is too low. Nothing was taken; please choose another way to pay."
    ),
    "bills.offline": QT_TRANSLATE_NOOP(
        "messages",
        "Bills cannot be paid at the kiosk while the hospital system is unreachable. Please go to the cashier "
        "window.",
    ),
    "bills.qr_cancelled": QT_TRANSLATE_NOOP("messages", "The QR code was cancelled. Nothing was charged."),
    "bills.qr_expired": QT_TRANSLATE_NOOP(
        "messages", "The QR code expired before it was paid. Nothing was charged; please choose how to pay."
    ),
    "bills.qr_unavailable": QT_TRANSLATE_NOOP(
        "messages", "No QR code could be made. Please scan your payment code instead, or go to the cashier window."
    ),
    "bills.qr_refunded": QT_TRANSLATE_NOOP(
        "messages",
        "The payment arrived just as the code was cancelled and was returned to your account at once. Please "
        "choose how to pay.",
    ),
    "bills.qr_closing": QT_TRANSLATE_NOOP("messages", "Cancelling the QR code…"),
    "bills.qr_cancel_failed": QT_TRANSLATE_NOOP(
        "messages", "The cancel did not reach the hospital system. The code may still be paid; press Cancel again."
    ),
    "bills.qr_unknown": QT_TRANSLATE_NOOP(
        "messages",
        "The result of the QR payment is not known yet. If you paid, the payment is kept and the items count as "
        "paid: please ask at the cashier window.",
    ),
    "offline.queue_full": QT_TRANSLATE_NOOP(
        "messages",
        "The kiosk has been offline too long to accept more registrations. Please go to the service desk.",
    ),
    "offline.banner": QT_TRANSLATE_NOOP(
        "messages", "Offline: registrations are kept on this kiosk and confirmed when the network is back."
    ),
    # ---- First-time filing and face verification (face.hint.* / face.action.* come from face.types)
    "face.hint.no_face": QT_TRANSLATE_NOOP("messages", "Please stand in front of the camera"),
    "face.hint.one_person": QT_TRANSLATE_NOOP("messages", "Only one person in front of the camera, please"),
    "face.hint.move_closer": QT_TRANSLATE_NOOP("messages", "Please move a little closer"),
    "face.hint.move_back": QT_TRANSLATE_NOOP("messages", "Please move back a little"),
    "face.hint.center": QT_TRANSLATE_NOOP("messages", "Please put your face inside the oval"),
    "face.hint.look_at_camera": QT_TRANSLATE_NOOP("messages", "Please look straight at the camera"),
    "face.hint.hold_still": QT_TRANSLATE_NOOP("messages", "Please hold still"),
    "face.hint.too_dark": QT_TRANSLATE_NOOP("messages", "It is too dark: please face the light"),
    "face.hint.too_bright": QT_TRANSLATE_NOOP("messages", "Too much light behind or on you"),
    "face.hint.ok": QT_TRANSLATE_NOOP("messages", "Good, hold still"),
    "face.action.turn_left": QT_TRANSLATE_NOOP("messages", "Slowly turn your head to the left"),
    "face.action.turn_right": QT_TRANSLATE_NOOP("messages", "Slowly turn your head to the right"),
    "face.verified": QT_TRANSLATE_NOOP("messages", "Your face matches your ID card photo."),
    "face.fail.timeout": QT_TRANSLATE_NOOP("messages", "The check took too long."),
    "face.fail.flat": QT_TRANSLATE_NOOP("messages", "The check needs a real face, not a photo or a screen."),
    "face.fail.still": QT_TRANSLATE_NOOP("messages", "We did not see your head turn."),
    "face.fail.wrong_direction": QT_TRANSLATE_NOOP("messages", "The head turned the other way."),
    "face.fail.no_face": QT_TRANSLATE_NOOP("messages", "We lost sight of your face."),
    "face.fail.no_match": QT_TRANSLATE_NOOP("messages", "Your face did not match the photo on the ID card."),
    "face.fail.camera": QT_TRANSLATE_NOOP(
        "messages", "The camera is not working, so the staff will check your ID card at the service window."
    ),
    "face.fail.no_reference": QT_TRANSLATE_NOOP(
        "messages", "The photo on your ID card cannot be used for the check. The staff will check your ID card."
    ),
    "face.fail.error": QT_TRANSLATE_NOOP(
        "messages", "The face check is not working right now. The staff will check your ID card."
    ),
    "face.unavailable.disabled": QT_TRANSLATE_NOOP(
        "messages", "Face verification is not offered at this kiosk. The staff will check your ID card."
    ),
    "face.unavailable.camera": QT_TRANSLATE_NOOP(
        "messages", "The camera is not available, so the staff will check your ID card at the service window."
    ),
    "face.unavailable.photo": QT_TRANSLATE_NOOP(
        "messages",
        "The photo on your ID card cannot be read here, so the staff will check your ID card at the service window.",
    ),
    "face.unavailable.engine": QT_TRANSLATE_NOOP(
        "messages", "Face verification is not working right now. The staff will check your ID card."
    ),
    "face.unavailable.starting": QT_TRANSLATE_NOOP(
        "messages", "Face verification is still starting. Please wait a moment or choose the staff check."
    ),
    "filing.already": QT_TRANSLATE_NOOP("messages", "You already have a record at this hospital."),
    "filing.phone_invalid": QT_TRANSLATE_NOOP(
        "messages", "That is not a mainland mobile number. Please check the 11 digits."
    ),
    "filing.filing": QT_TRANSLATE_NOOP("messages", "Creating your record…"),
    "filing.pending_offline": QT_TRANSLATE_NOOP(
        "messages",
        "The hospital system is offline, so your record is pending confirmation. Please take the slip; it is "
        "confirmed automatically when the network is back.",
    ),
    "identify.not_found": QT_TRANSLATE_NOOP(
        "messages", "There is no record for you yet. Create one with the button below, or ask at the service desk."
    ),
    "identify.payment_code_here": QT_TRANSLATE_NOOP(
        "messages", "That is a payment code. First identify yourself with your card or visit-card QR code."
    ),
    "identify.unknown_code": QT_TRANSLATE_NOOP(
        "messages", "This code is not a visit card or medical-insurance e-voucher. Please try your ID card."
    ),
    "identify.face_no_match": QT_TRANSLATE_NOOP(
        "messages", "Your face was not recognised with these digits. Please use your card or visit-card QR code."
    ),
    "identify.not_in_cache": QT_TRANSLATE_NOOP(
        "messages", "The hospital system cannot be reached and this card has not been used here recently."
    ),
    "feature.coming_soon": QT_TRANSLATE_NOOP(
        "messages", "This service is coming soon. Please use the service desk for now."
    ),
    # ---- refund (退号) and reprint (补打): kiosk_app/features/refund, kiosk_app/features/reprint
    "refund.none": QT_TRANSLATE_NOOP("messages", "You have no paid registration from today on to cancel."),
    "refund.none_in_window": QT_TRANSLATE_NOOP(
        "messages", "None of your registrations can be cancelled at the kiosk now. Please ask at the cashier window."
    ),
    "refund.blocked.refund_window_closed": QT_TRANSLATE_NOOP(
        "messages", "It is too late to cancel this registration here. Please ask at the cashier window."
    ),
    "refund.blocked.already_checked_in": QT_TRANSLATE_NOOP(
        "messages", "Your visit has already begun, so it cannot be cancelled here. Please ask at the cashier window."
    ),
    "refund.blocked.unknown": QT_TRANSLATE_NOOP(
        "messages", "This registration cannot be cancelled at the kiosk. Please ask at the cashier window."
    ),
    "refund.pending": QT_TRANSLATE_NOOP(
        "messages",
        "Your registration is cancelled. The refund is being processed and goes back to the account that paid.",
    ),
    "refund.failed": QT_TRANSLATE_NOOP(
        "messages",
        "Your registration is cancelled, but the refund could not be made automatically. "
        "Please take the slip to the cashier window.",
    ),
    "refund.unknown": QT_TRANSLATE_NOOP(
        "messages",
        "The refund could not be confirmed yet. The hospital completes it; please keep the slip and ask at the "
        "cashier window if it does not arrive.",
    ),
    "refund.offline": QT_TRANSLATE_NOOP(
        "messages", "The hospital system cannot be reached, so cancelling is not possible now. Nothing was changed."
    ),
    "server.rejected.refund_window_closed": QT_TRANSLATE_NOOP(
        "messages", "It is now too late to cancel this registration here. Nothing was changed."
    ),
    "server.rejected.already_checked_in": QT_TRANSLATE_NOOP(
        "messages", "Your visit has already begun, so it cannot be cancelled here. Nothing was changed."
    ),
    "server.rejected.registration_cancelled": QT_TRANSLATE_NOOP(
        "messages", "This registration has already been cancelled."
    ),
    "server.rejected.nothing_to_refund": QT_TRANSLATE_NOOP(
        "messages", "The fee of this registration has already been refunded."
    ),
    "reprint.none": QT_TRANSLATE_NOOP("messages", "No slip of yours was printed at this kiosk recently."),
    "reprint.limit": QT_TRANSLATE_NOOP(
        "messages", "This slip has been reprinted as often as allowed. Please ask the staff for another copy."
    ),
    # ---- prepaid account top-up (kiosk_app/features/topup/)
    "topup.success": QT_TRANSLATE_NOOP("messages", "The money is in your prepaid account."),
    "topup.unknown": QT_TRANSLATE_NOOP(
        "messages",
        "The payment result is not known yet. Please do not pay again: if the money was taken, it is added to "
        "your account automatically. Check your balance later or ask at the cashier window.",
    ),
    "topup.offline": QT_TRANSLATE_NOOP(
        "messages",
        "The hospital system cannot be reached, so no top-up is possible now and nothing was charged. "
        "Please try again later or go to the cashier window.",
    ),
    "topup.amount_range": QT_TRANSLATE_NOOP("messages", "Please choose an amount within the limits shown."),
    # ---- appointment check-in (预约取号) and reports (报告打印): kiosk_app/features/checkin, .../reports
    "checkin.none": QT_TRANSLATE_NOOP("messages", "You have no booked visits today."),
    "checkin.done": QT_TRANSLATE_NOOP("messages", "You are checked in. Please take your slip to the waiting area."),
    "server.rejected.too_early": QT_TRANSLATE_NOOP(
        "messages", "It is too early to check in for this visit. Please come back at the check-in time shown."
    ),
    "server.rejected.too_late": QT_TRANSLATE_NOOP(
        "messages", "The check-in time for this visit has passed. Please go to the service desk."
    ),
    "server.rejected.appointment_cancelled": QT_TRANSLATE_NOOP(
        "messages", "This booking was cancelled. Please go to the service desk."
    ),
    "server.rejected.appointment_no_show": QT_TRANSLATE_NOOP(
        "messages", "This booking was marked as missed. Please go to the service desk."
    ),
    "server.rejected.appointment_checked_in": QT_TRANSLATE_NOOP("messages", "This visit is already checked in."),
    "server.rejected.appointment_not_found": QT_TRANSLATE_NOOP(
        "messages", "This booking was not found. Please go to the service desk."
    ),
    "reports.none": QT_TRANSLATE_NOOP("messages", "There are no reports for you yet."),
    "reports.not_ready": QT_TRANSLATE_NOOP("messages", "This report is not ready yet. Please come back later."),
    "reports.printed": QT_TRANSLATE_NOOP("messages", "Your report is printed. Please take it from the slot below."),
    "reports.paper_out": QT_TRANSLATE_NOOP(
        "messages",
        "The printer is out of paper. That copy does not count: after the staff refill it, touch the report "
        "to print it again.",
    ),
    "reports.print_failed": QT_TRANSLATE_NOOP(
        "messages",
        "The report could not be printed. That copy does not count: touch the report to try again, "
        "or ask the staff for help.",
    ),
    "server.rejected.already_printed": QT_TRANSLATE_NOOP(
        "messages", "This report has already been printed. Please tell us why you need another copy."
    ),
    "server.rejected.report_not_ready": QT_TRANSLATE_NOOP(
        "messages", "This report is not ready yet. Please come back later."
    ),
    "server.rejected.report_not_found": QT_TRANSLATE_NOOP(
        "messages", "This report was not found. Please go to the service desk."
    ),
    # ---- cashier window (kiosk_app/features/cashier/): words for staff, not patients
    "cashier.shift_opened": QT_TRANSLATE_NOOP("messages", "Shift opened."),
    "cashier.shift_resumed": QT_TRANSLATE_NOOP("messages", "Welcome back: your shift continues."),
    "cashier.locked": QT_TRANSLATE_NOOP("messages", "Window locked. Sign in again to continue the shift."),
    "cashier.signed_out": QT_TRANSLATE_NOOP(
        "messages", "Signed out after a long pause. Please sign in again: your shift continues."
    ),
    "cashier.signin_incomplete": QT_TRANSLATE_NOOP("messages", "Enter the staff number and the PIN."),
    "cashier.nothing_open": QT_TRANSLATE_NOOP("messages", "This patient has nothing left to pay."),
    "cashier.select_something": QT_TRANSLATE_NOOP("messages", "Select at least one bill or registration."),
    "cashier.fully_covered": QT_TRANSLATE_NOOP("messages", "The insurance covers all of it: nothing to pay."),
    "cashier.code_one_order": QT_TRANSLATE_NOOP(
        "messages", "A payment code pays one order: select only the bills, or a single registration."
    ),
    "cashier.tendered_too_little": QT_TRANSLATE_NOOP("messages", "The amount tendered is less than the amount due."),
    "cashier.pos_ref_missing": QT_TRANSLATE_NOOP(
        "messages", "Enter the reference number printed by the POS terminal."
    ),
    "cashier.paid": QT_TRANSLATE_NOOP("messages", "Paid. The receipt is printing."),
    "cashier.not_recorded": QT_TRANSLATE_NOOP(
        "messages", "Nothing was recorded. Give the money back to the patient and try again."
    ),
    "cashier.unknown": QT_TRANSLATE_NOOP(
        "messages",
        "The payment could not be confirmed yet. Do not take the money again: the end-of-shift report "
        "reconciles it with the hospital system.",
    ),
    "cashier.nothing_to_refund": QT_TRANSLATE_NOOP(
        "messages", "This patient has no payment of the last 30 days to refund."
    ),
    "cashier.refund_amount": QT_TRANSLATE_NOOP("messages", "Enter an amount up to what was paid."),
    "cashier.refund_reason": QT_TRANSLATE_NOOP("messages", "Choose the reason for the refund."),
    "cashier.refund_pos_ref": QT_TRANSLATE_NOOP(
        "messages", "Refund the card on the POS terminal first, then enter its reference number."
    ),
    "cashier.refund_refused": QT_TRANSLATE_NOOP("messages", "The refund was not made. Nothing was changed."),
    "cashier.refund_refunded": QT_TRANSLATE_NOOP("messages", "Refund made."),
    "cashier.refund_pending": QT_TRANSLATE_NOOP(
        "messages", "Refund accepted; the payment provider is still moving the money back."
    ),
    "cashier.refund_failed": QT_TRANSLATE_NOOP(
        "messages", "The payment provider refused the refund. Nothing was refunded; finance has a work item."
    ),
    "cashier.refund_unknown": QT_TRANSLATE_NOOP(
        "messages",
        "The refund could not be confirmed yet. Do not refund again: it is reconciled at the end of the shift.",
    ),
    "cashier.count_cash": QT_TRANSLATE_NOOP("messages", "Count the cash in the drawer and enter the amount."),
    "cashier.reconciled": QT_TRANSLATE_NOOP("messages", "Shift closed: everything reconciles."),
    "cashier.mismatches": QT_TRANSLATE_NOOP(
        "messages", "Shift closed with differences: see the list and tell your supervisor."
    ),
    "cashier.rejected.sign_in_failed": QT_TRANSLATE_NOOP(
        "messages", "Wrong staff number, PIN or card, or the account is locked for a while."
    ),
    "cashier.rejected.window_in_use": QT_TRANSLATE_NOOP(
        "messages", "Another cashier's shift is open at this window. It must be closed first."
    ),
    "cashier.rejected.shift_open_elsewhere": QT_TRANSLATE_NOOP(
        "messages", "Your shift is open at another window. Close it there first."
    ),
    "cashier.rejected.shift_closed": QT_TRANSLATE_NOOP("messages", "This shift is closed. Sign in to open a new one."),
    "cashier.rejected.shift_kiosk_mismatch": QT_TRANSLATE_NOOP(
        "messages", "This sign-in belongs to another window. Please sign in again."
    ),
    "cashier.rejected.supervisor_not_approved": QT_TRANSLATE_NOOP(
        "messages", "Not approved: wrong supervisor number or PIN, not a supervisor, or the cashier themself."
    ),
    "cashier.rejected.refund_exceeds_refundable": QT_TRANSLATE_NOOP(
        "messages", "That is more than is left to refund of this payment."
    ),
    "cashier.rejected.payment_not_paid": QT_TRANSLATE_NOOP(
        "messages", "This payment was not completed, so there is nothing to refund."
    ),
    "cashier.rejected.payment_not_found": QT_TRANSLATE_NOOP("messages", "This payment was not found."),
    "cashier.rejected.pos_ref_required": QT_TRANSLATE_NOOP(
        "messages", "Refund the card on the POS terminal first, then enter its reference number."
    ),
    "cashier.rejected.refund_channel_unsupported": QT_TRANSLATE_NOOP(
        "messages", "This kind of payment cannot be refunded here. Please ask finance."
    ),
    "cashier.rejected.bill_not_locked": QT_TRANSLATE_NOOP(
        "messages", "The bills are no longer held for this payment. Nothing was taken: select them again."
    ),
    "cashier.rejected.bill_lock_expired": QT_TRANSLATE_NOOP(
        "messages", "The hold on the bills expired. Nothing was taken: select them again."
    ),
    "cashier.rejected.bill_changed": QT_TRANSLATE_NOOP(
        "messages", "A bill changed since it was listed. The list has been refreshed: check it again."
    ),
    "cashier.rejected.bill_locked": QT_TRANSLATE_NOOP(
        "messages", "A bill is being paid elsewhere right now (at a kiosk?). Try again in a few minutes."
    ),
    "cashier.rejected.bill_cancelled": QT_TRANSLATE_NOOP("messages", "A bill was cancelled by the hospital."),
    "cashier.rejected.amount_mismatch": QT_TRANSLATE_NOOP(
        "messages", "The amount changed since it was shown. Nothing was taken: select the items again."
    ),
    "cashier.rejected.already_paid": QT_TRANSLATE_NOOP(
        "messages", "Already paid elsewhere meanwhile. Nothing was taken: the list has been refreshed."
    ),
    "cashier.rejected.registration_cancelled": QT_TRANSLATE_NOOP(
        "messages", "This registration was cancelled meanwhile."
    ),
    "cashier.rejected.payment_pending": QT_TRANSLATE_NOOP(
        "messages", "A payment for this is still being confirmed. Try again in a minute."
    ),
    "cashier.rejected.patient_not_found": QT_TRANSLATE_NOOP("messages", "No patient with this visit card."),
    "cashier.rejected.invalid_request": QT_TRANSLATE_NOOP(
        "messages", "The hospital system did not accept these details. Please check them."
    ),
    "cashier.rejected.idempotency_key_reused": QT_TRANSLATE_NOOP(
        "messages", "This payment was already sent with other details. Please start it again."
    ),
}
