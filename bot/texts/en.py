"""English catalogue: every word the bot says to customers and admins, by key.

Placeholders use `str.format` names; `bot.texts.t` fills them. Plain text, no markup, so nothing
a customer or Daraja supplies can break formatting.
"""

from __future__ import annotations

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

TEXTS: dict[str, str] = {
    "menu_pay": "Pay with M-Pesa",
    "menu_history": "Your payments",
    "menu_language": "English or Kiswahili",
    "menu_help": "How paying works",
    "menu_cancel": "Stop the current payment",
    # Never "nothing was charged": only M-Pesa can say that, and a prompt may be out.
    "error_generic": "Sorry, something went wrong on our side. Please try again.",
    "fail_2": "The amount is below the M-Pesa minimum. Try a larger amount.",
    "fail_3": "The amount is above the M-Pesa limit for one payment. Try a smaller amount.",
    "fail_4": "You have reached your daily M-Pesa limit. Try again tomorrow.",
    # --- welcome and help ---
    "welcome": (
        "Hi {name}! I take M-Pesa payments for {merchant}.\n\n"
        "Send /pay, tell me the amount and your Safaricom number, confirm, and enter your "
        "M-Pesa PIN when your phone asks. I send your receipt here.\n\n"
        "/history shows your payments, /language switches to Kiswahili, /help explains more."
    ),
    "welcome_bad_link": (
        "That payment link is not valid (it should look like pay-500 or pay-500-INV042), "
        "so nothing was filled in. You can still pay: send /pay and enter the amount yourself."
    ),
    "help": (
        "How to pay {merchant}:\n"
        "1. Send /pay\n"
        "2. Type the amount in shillings, e.g. 500\n"
        "3. Share or type your M-Pesa number, e.g. 0712 345 678\n"
        "4. Check the details and tap Confirm\n"
        "5. Your phone shows an M-Pesa prompt: enter your PIN\n\n"
        "Commands: /pay to pay, /cancel to stop, /history for your payments, "
        "/language for English or Kiswahili."
    ),
    "help_admin": (
        "Admin commands: /status for today, /status <id, checkout id, receipt or phone> for one "
        "payment, /pending, /recent [n], /reconcile <id>."
    ),
    # --- pay conversation ---
    "ask_amount": "How much do you want to pay {merchant}? Type the amount in shillings, e.g. 500.",
    "ask_phone": (
        "Paying {amount}. Which M-Pesa number should get the payment prompt? "
        "Tap the button to share your number, or type it (e.g. 0712 345 678)."
    ),
    "ask_phone_last": "You can also use the number from last time: {phone}.",
    "btn_share_phone": "📱 Share my number",
    "btn_last_phone": "Use {phone}",
    "confirm": (
        "Please check:\n"
        "Pay: {amount}\n"
        "To: {merchant}\n"
        "From M-Pesa number: {phone}\n"
        "{reference_line}"
        "\nTap Confirm and your phone will ask for your M-Pesa PIN."
    ),
    "confirm_reference": "Reference: {reference}\n",
    "btn_confirm": "✅ Confirm",
    "btn_cancel": "✖ Cancel",
    "btn_try_again": "🔁 Try again",
    "preparing": "Number {phone} ✓",
    "check_phone": (
        "Check your phone and enter your M-Pesa PIN to pay {amount} to {merchant}.\n"
        "I will tell you here as soon as M-Pesa answers."
    ),
    "already_sent": "Already sent: check your phone for the M-Pesa prompt.",
    "payment_closed": "This payment is already finished.",
    "draft_expired": (
        "This confirmation has expired, so no M-Pesa prompt was sent. Send /pay to start again."
    ),
    "cancelled": "Cancelled. Nothing was charged. Send /pay to start again.",
    "nothing_to_cancel": "There is nothing to cancel. Send /pay to make a payment.",
    "timeout": (
        "I stopped waiting for your answer, so this payment was not started. "
        "Nothing was charged. Send /pay when you are ready."
    ),
    "not_own_contact": (
        "That is someone else's contact. For your safety I can only send the M-Pesa prompt "
        "to your own number: tap the button below, or type the number."
    ),
    "hint_amount": "I need the amount as a number, e.g. 500.",
    "hint_phone": "I need a phone number: tap the button to share yours, or type it.",
    "hint_confirm": "Please use the Confirm or Cancel button above, or send /cancel.",
    "in_progress": (
        "You already have a payment waiting: {amount} from {phone} (started {when}). "
        "Finish it on your phone or wait for it to end, then try again."
    ),
    "phone_busy": (
        "That number already has an M-Pesa payment waiting. "
        "Please try again in a few minutes, or use another number."
    ),
    "push_limit": "You have started many payments in a short time. Please try again in {wait}.",
    "callback_not_yours": "This button is not for you.",
    "callback_invalid": "This button is no longer valid.",
    # --- amount problems (keyed by InvalidAmount.reason, with a general fallback) ---
    "amount_invalid": (
        "That is not an amount I can take. Type whole shillings between {minimum} and {maximum}."
    ),
    "amount_not_a_number": (
        "Please type the amount in figures, e.g. 500. I could not read an amount in “{text}”."
    ),
    "amount_not_whole": (
        "M-Pesa only takes whole shillings: please type an amount without cents, e.g. 10."
    ),
    "amount_too_small": "The smallest amount is {minimum}.",
    "amount_too_large": "The largest amount for one M-Pesa payment is {maximum}.",
    "amount_again": "How much do you want to pay?",
    # --- phone problems ---
    "phone_invalid": (
        "That is not a Kenyan mobile number I can send an M-Pesa prompt to. "
        "Type a Safaricom number like 0712 345 678 or +254 712 345 678."
    ),
    "phone_again": "Which M-Pesa number should I use?",
    # --- outcomes (notifier and push) ---
    "paid": "Paid ✓\nReceipt {receipt}\n{amount} to {merchant}\n{when}",
    "late_paid": (
        "Good news: M-Pesa has now confirmed your payment.\n"
        "Paid ✓\nReceipt {receipt}\n{amount} to {merchant}\n{when}"
    ),
    "failed": "Payment of {amount} not completed.\n{reason}",
    # Our own timeout: M-Pesa never confirmed either way, so we cannot say nothing was charged.
    "expired": (
        "Payment of {amount}: no confirmation came from M-Pesa, so I stopped waiting.\n"
        "If money left your M-Pesa account, I will tell you here as soon as M-Pesa confirms it.\n"
        "Please check your M-Pesa SMS before you tap Try again, so you do not pay twice."
    ),
    "push_failed": "Could not send the M-Pesa prompt for {amount}.\n{reason}",
    "fail_1": (
        "Your M-Pesa balance is too low for this amount. Top up or use Fuliza, then try again."
    ),
    "fail_17": (
        "M-Pesa blocks the same amount from the same number twice within 2 minutes. "
        "Wait 2 minutes and try again."
    ),
    "fail_1001": (
        "Your phone was busy with another M-Pesa prompt. "
        "Finish or close it, wait a minute, then try again."
    ),
    "fail_1019": "The M-Pesa prompt expired before the PIN was entered. Nothing was charged.",
    "fail_1025": "M-Pesa could not send the prompt to your phone. Please try again.",
    "fail_1032": "You cancelled the request on your phone. Nothing was charged.",
    "fail_1037": (
        "Your phone could not be reached or did not answer. Make sure it is on, has network and "
        "the screen is unlocked, then try again."
    ),
    "fail_2001": "The M-Pesa PIN was wrong. Nothing was charged. Try again with the right PIN.",
    "fail_8006": (
        "Your M-Pesa PIN is locked after too many wrong tries. Dial *334# or call 100 "
        "to unlock it, then try again."
    ),
    "fail_2028": (
        "The merchant's M-Pesa account is not set up for this payment. Nothing was charged. "
        "Please tell {merchant}."
    ),
    "fail_SFC_IC0003": (
        "The merchant's M-Pesa account is not set up for this payment. Nothing was charged. "
        "Please tell {merchant}."
    ),
    "fail_outcome_cancelled": "The payment was cancelled. Nothing was charged.",
    "fail_outcome_expired": "The payment request expired. Nothing was charged.",
    "fail_outcome_failed": (
        "M-Pesa did not complete the payment. Nothing was charged. Please try again."
    ),
    "fail_outcome_unknown": (
        "M-Pesa did not complete the payment. If money left your account, "
        "keep the M-Pesa SMS and contact {merchant}."
    ),
    "push_subscriber_locked": (
        "Your phone already has an M-Pesa prompt open. Finish or close it, "
        "then try again in {wait}."
    ),
    "push_rate_limited": "M-Pesa is busy right now. Please try again in {wait}.",
    "push_invalid_phone": (
        "M-Pesa did not accept that phone number. Check it is a Safaricom M-Pesa number "
        "and try again."
    ),
    "push_unavailable": (
        "M-Pesa could not be reached. Nothing was charged. Please try again in a few minutes."
    ),
    "push_generic": (
        "The payment could not be started because of a problem on our side. Nothing was "
        "charged. Please tell {merchant}."
    ),
    # --- history ---
    "history_empty": "You have no payments yet. Send /pay to make one.",
    "history_header": "Your last payments:",
    "history_line": "{when} · {amount} · {status}{receipt}",
    "status_created": "not started",
    "status_pushing": "sending prompt",
    "status_pending": "waiting for PIN",
    "status_paid": "paid",
    "status_failed": "failed",
    "status_cancelled": "cancelled",
    "status_expired": "expired",
    "status_push_failed": "prompt not sent",
    "status_unknown": "checking with M-Pesa",
    # --- language ---
    "language_prompt": "Choose your language:",
    "language_set": "Okay, I will speak English.",
    "btn_lang_en": "English",
    "btn_lang_sw": "Kiswahili",
    # --- admin ---
    "admin_only": "Sorry, that command is only for the shop's staff.",
    "admin_summary": (
        "Today ({day}), {env}\n"
        "{counts}\n"
        "Received: {total}\n"
        "Success rate: {rate}\n"
        "Pending now: {pending}\n"
        "Last M-Pesa answer: {last_callback}"
    ),
    "admin_no_callback": "none yet",
    "admin_ago": "{seconds} s ago",
    "admin_payment": (
        "Payment {id}: {amount}, {phone}, {status}\n"
        "Checkout: {checkout}\n"
        "Receipt: {receipt}\n"
        "M-Pesa said: {result}\n"
        "Timeline:\n{timeline}"
    ),
    "admin_live_query": "Live query: {answer}",
    "admin_live_processing": "still being processed",
    "admin_not_found": "No payment matches {ref}.",
    "admin_pending_empty": "Nothing is pending.",
    "admin_pending_header": "Pending payments:",
    "admin_recent_empty": "No payments yet.",
    "admin_recent_header": "Last {n} payments:",
    "admin_payment_line": "#{id} {when} · {amount} · {phone} · {status}",
    "admin_reconcile_usage": "Usage: /reconcile <payment id>",
    "admin_reconciled": "Queried M-Pesa for payment {id}: now {status}.",
    "admin_alert": (
        "⚠ Payment #{payment_id} needs a look ({topic}). Checkout {checkout}. "
        "See /status {payment_id}."
    ),
    "none": "—",
    "wait_second": "1 second",
    "wait_seconds": "{n} seconds",
    "wait_minutes": "{n} minutes",
    # --- never silent (issue 13) ---
    "pointer": (
        "I take M-Pesa payments for {merchant}. Send /pay to pay, or just type the amount "
        "(e.g. 500). /help explains how it works."
    ),
    "pointer_waiting": (
        "Your payment of {amount} is on its way: check your phone and enter your M-Pesa PIN. "
        "I will tell you here as soon as M-Pesa answers. /help explains more."
    ),
    "unknown_command": "I do not know the command {command}.",
    "button_stale": "This button is no longer in use.",
    "confirm_replaced": (
        "Replaced by your new payment: no M-Pesa prompt was sent for this one. Nothing was charged."
    ),
    "confirm_expired": (
        "This confirmation expired before it was confirmed: no M-Pesa prompt was sent. "
        "Nothing was charged. Send /pay to start again."
    ),
    "confirm_ended": (
        "This payment was stopped before any M-Pesa prompt was sent. Nothing was charged. "
        "Send /pay to start again."
    ),
    "amount_ambiguous": (
        "Did you mean {thousands}? In “{text}” the dot could separate thousands or cents, "
        "so please type the amount without it, e.g. {plain}."
    ),
    "phone_not_safaricom": (
        "That number is on {network}, and M-Pesa prompts only reach Safaricom lines. "
        "Please type your Safaricom M-Pesa number, e.g. 0712 345 678."
    ),
    "network_airtel": "Airtel",
    "network_telkom": "Telkom",
    "network_other": "another network",
    # --- admin views in words ---
    "admin_status_line": "Status: {status}",
    "admin_flagged_amount_mismatch": "flagged: amount mismatch (paid {paid}, expected {expected})",
    "admin_flagged_receipt_conflict": (
        "flagged: M-Pesa's receipt for it already belongs to another payment"
    ),
    "admin_flagged": "flagged: {reason}",
    "admin_reconcile_no_query": "Did not query M-Pesa about payment {id}: {why}.",
    "admin_no_query_final": "it is {status}, which is final",
    "admin_no_query_flagged": "it is flagged for a person to check",
    "admin_no_query_not_pushed": "M-Pesa never accepted a prompt for it ({status})",
    "alert_amount_mismatch": (
        "⚠ Payment #{payment_id}: M-Pesa reports {paid} paid, but {expected} was asked, "
        "so it was not marked paid. Receipt {receipt}, checkout {checkout}. "
        "Please check it: /status {payment_id}."
    ),
    "alert_receipt_conflict": (
        "⚠ Payment #{payment_id}: M-Pesa sent receipt {receipt}, which already belongs to "
        "another payment, so it was not marked paid. Checkout {checkout}. "
        "Please check it: /status {payment_id}."
    ),
    "alert_second_receipt": (
        "⚠ Payment #{payment_id} was already paid, and M-Pesa has now sent a second receipt, "
        "{receipt}, for it: the customer may have paid twice. Checkout {checkout}. "
        "Please check it: /status {payment_id}."
    ),
    "alert_paid_after_final": (
        "⚠ Payment #{payment_id}: M-Pesa now says it was paid ({paid}, receipt {receipt}) "
        "after the customer was told it did not go through. Checkout {checkout}. "
        "Please check it: /status {payment_id}."
    ),
    "event_created": "created",
    "event_push_requested": "prompt requested",
    "event_pushed": "prompt sent",
    "event_push_failed": "prompt not sent",
    "event_push_unknown": "prompt outcome unknown",
    "event_callback": "M-Pesa callback",
    "event_query": "M-Pesa query",
    "event_c2b": "M-Pesa menu payment (C2B)",
    "event_c2b_validation": "M-Pesa asked whether to accept a menu payment",
    "event_attached": "menu payment given to it by an admin",
    "event_query_pending": "queried: still processing",
    "event_query_error": "query failed",
    "event_duplicate": "repeated answer",
    "event_conflict": "conflicting answer",
    "event_late_result": "late answer",
    "event_details": "details added",
    "event_amount_mismatch": "amount mismatch",
    "event_receipt_conflict": "receipt conflict",
    "event_unknown_checkout": "unknown checkout",
    "event_expired": "expired",
    "event_cancelled": "cancelled",
    "event_notified": "customer told",
    "admin_detail_code": "code {code}",
    "admin_detail_receipt": "receipt {receipt}",
    "admin_detail_by": "by {who}",
    # --- the shop: /link, /export, /find, /report, daily summary ---
    "help_shop": (
        "For the shop: /link [amount] [reference] for a payment QR code, /export [range] for a "
        "CSV of payments, /find <receipt, reference or phone digits>, /report [7d or 30d] for a "
        "chart."
    ),
    "menu_status": "Today's payments, or one payment",
    "menu_pending": "Payments waiting for M-Pesa",
    "menu_recent": "The latest payments",
    "menu_reconcile": "Ask M-Pesa about a payment",
    "menu_link": "Payment link and QR code",
    "menu_export": "Payments as a CSV file",
    "menu_find": "Find payments",
    "menu_report": "Chart of takings",
    "link_caption": (
        "Payment link for {merchant}, {amount}{reference}:\n{link}\n\n"
        "Print the code or share the link: the customer scans it, taps Start and confirms "
        "their number."
    ),
    "link_caption_any": (
        "Payment link for {merchant}; the customer types the amount:\n{link}\n\n"
        "Print the code or share the link: the customer scans it, taps Start and enters the "
        "amount."
    ),
    "link_reference": ", reference {reference}",
    "link_image_amount": "Pay {amount}",
    "link_image_reference": "Pay {amount} · {reference}",
    "link_image_any": "Pay with M-Pesa",
    "link_bad_amount": (
        "{text} is not an amount I can put in a link: use whole shillings from {minimum} to "
        "{maximum}, e.g. /link 500 or /link 500 INV042. /link alone makes a link where the "
        "customer types the amount."
    ),
    "link_bad_reference": (
        "The reference {reference} cannot go in a link: use up to 12 letters, digits or _ "
        "(no spaces or dashes), e.g. /link 500 INV042."
    ),
    "range_bad_format": (
        'I can\'t read "{text}" as dates. Use today, yesterday, 7d, 30d, one day like '
        "2026-12-01, or two days like 2026-11-01..2026-11-30."
    ),
    "range_bad_order": (
        "The range {text} ends before it starts: put the earlier day first, e.g. "
        "2026-11-01..2026-11-30."
    ),
    "range_bad_too_long": "That range is longer than {days} days: ask for it in parts.",
    "export_empty": "No payments from {first} to {last} (Nairobi time): nothing to export.",
    "export_caption": "Payments from {first} to {last} (Nairobi time): {rows} rows.",
    "export_columns": (
        "created (Nairobi)|completed (Nairobi)|amount|paid amount|status|result code|reason|"
        "receipt|reference|phone|Telegram user id"
    ),
    "find_usage": (
        "Usage: /find <M-Pesa receipt, reference or phone>; for a phone the last 3 or more "
        "digits are enough, e.g. /find TBF34EVY55, /find INV042 or /find 678."
    ),
    "find_none": "No payment matches {search}.",
    "find_header": "Payments matching {search}: {total}",
    "find_more": "Showing the newest {shown} of {total}: search for something longer for the rest.",
    "report_usage": "Usage: /report 7d or /report 30d (7d when you give nothing).",
    "report_title": "{merchant}: {first} to {last}",
    "report_axis_takings": "Takings (KES)",
    "report_axis_rate": "Success rate",
    "report_totals": (
        "{first} to {last} (Nairobi time)\n"
        "Takings: {takings} from {paid} paid payments\n"
        "Payments: {count}, success rate {rate}\n"
        "Daily average: {average}\n"
        "Best day: {best_day}, {best}"
    ),
    "summary": (
        "📊 {merchant}, {day} up to {time}\n"
        "Takings: {takings} from {paid} paid payments\n"
        "Payments: {count}, success rate {rate}\n"
        "{failures}\n"
        "Flagged for review: {flagged} · Unmatched callbacks: {unmatched}\n\n"
        "Same day last week ({last_day}, up to {time}): {last_takings} from {last_paid} paid, "
        "{last_count} payments, success rate {last_rate}.{change}"
    ),
    "summary_up": " Takings are up {percent}.",
    "summary_down": " Takings are down {percent}.",
    "summary_same": " Takings are the same.",
    "summary_no_failures": "Failures: none",
    "summary_failures": "Failures:",
    "summary_failure_line": "• {status} ({code}): {n}",
    "summary_no_code": "no code",
    "export_too_big": (
        "That file would be {mb} MB, more than Telegram lets a bot send (50 MB): ask for a "
        "shorter range."
    ),
    # --- the truth, whatever came first (issue: late receipts, flagged money) ---
    # A query confirmed the payment; queries carry no receipt number.
    "receipt_to_follow": "in your M-Pesa SMS (it will show here when M-Pesa sends it)",
    "flagged": (
        "We received your payment of {amount} ✓\n"
        "{merchant} is checking it and will be in touch. Please keep your M-Pesa SMS."
    ),
    # One line to the admins and the staff chat for every paid payment.
    "announcement": "💰 {amount} from {customer} ({phone}) · receipt {receipt} · ref {reference}",
    "announcement_no_name": "a customer",
    # An error after a prompt may have gone out: the reconciler settles it with M-Pesa.
    "error_checking": (
        "Sorry, something went wrong on our side. Your payment of {amount} is being checked "
        "with M-Pesa: I will tell you here how it ended. Please do not pay again until then."
    ),
    "error_unsure": (
        "Sorry, something went wrong on our side. If an M-Pesa prompt reached your phone, the "
        "payment is being checked with M-Pesa and I will tell you here how it ended."
    ),
    "alert_paid_after_all": (
        "✅ Payment #{payment_id}: M-Pesa has now confirmed it was paid ({paid}, receipt "
        "{receipt}) although an earlier answer said it did not go through. It is marked paid "
        "and the customer has been told. Checkout {checkout}: /status {payment_id}."
    ),
    "alert_unmatched_stk": (
        "⚠ M-Pesa took {paid} from {phone} (receipt {receipt}, checkout {checkout}), but it "
        "matches no payment here. Possible payments: {candidates}. Please check them with "
        "/status and settle it with the customer."
    ),
    "admin_customer_not_told": (
        "⚠ Payment #{payment_id}: the customer could not be told ({message}). M-Pesa number "
        "{customer}, receipt {receipt}, KES {amount}. Telegram said: {error}. Please reach them "
        "another way. See /status {payment_id}."
    ),
    "push_limit_phone": (
        "That number has had several M-Pesa prompts in the last hour. To protect it, please try "
        "again in {wait}."
    ),
    # C2B: payments from the M-Pesa menu (docs/DARAJA.md §11)
    "btn_pay_from_menu": "📱 Pay from the M-Pesa menu instead",
    "menu_steps_paybill": (
        "Pay {amount} from the M-Pesa menu:\n"
        "1. M-PESA (SIM toolkit or the M-PESA app) → Lipa na M-PESA → Pay Bill\n"
        "2. Business number: {business}\n"
        "3. Account number: {account}\n"
        "4. Amount: {amount_plain}\n"
        "5. Enter your M-Pesa PIN and confirm.\n"
        "Type the account number exactly: it tells {merchant} the money is yours. "
        "This message changes to paid as soon as it arrives."
    ),
    "menu_steps_till": (
        "Pay {amount} from the M-Pesa menu:\n"
        "1. M-PESA (SIM toolkit or the M-PESA app) → Lipa na M-PESA → Buy Goods and Services\n"
        "2. Till number: {till}\n"
        "3. Amount: {amount_plain}\n"
        "4. Enter your M-Pesa PIN and confirm.\n"
        "Pay from this phone ({phone}) and this exact amount, so {merchant} can tell the money "
        "is yours. This message changes to paid as soon as it arrives."
    ),
    "menu_fallback_intro": "The prompt could not reach your phone, but you can still pay:",
    "admin_alert_unlinked": "⚠ {topic}. {facts}.",
    "alert_unmatched_c2b": (
        "⚠ An M-Pesa payment matches no payment: {amount} from {payer} {name}, account "
        '"{account}", receipt {trans_id} ({why}).\n'
        "It is kept as C2B #{c2b_id}. /attach {c2b_id} <payment id> gives it to a payment; "
        "/unmatched lists the others."
    ),
    "c2b_why_no_account": "no payment has this account number",
    "c2b_why_no_reference": "no account number was typed",
    "c2b_why_second_payment": "that payment was already paid: the customer paid twice",
    "c2b_why_payment_flagged": "that payment is waiting for an admin",
    "unmatched_empty": "No unmatched M-Pesa payments.",
    "unmatched_header": "Unmatched M-Pesa payments, newest first:",
    "unmatched_line": (
        'C2B #{id} · {when} · {amount} · account "{account}" · {payer} {name} · {receipt} ({why})'
    ),
    "unmatched_footer": "Give one to a payment with /attach <C2B number> <payment id>.",
    "attach_usage": (
        "Usage: /attach <C2B number> <payment id>, e.g. /attach 3 120 (see /unmatched)."
    ),
    "attach_done": (
        "C2B #{c2b_id} ({receipt}, {amount}) now belongs to payment #{payment_id}: {status}."
    ),
    "attach_refused": "Cannot give C2B #{c2b_id} to payment #{payment_id}: {reason}.",
    "menu_unmatched": "M-Pesa payments that match no payment",
    "menu_attach": "Give an unmatched M-Pesa payment to a payment",
    "sending_prompt": "Sending the M-Pesa prompt to your phone…",
}
