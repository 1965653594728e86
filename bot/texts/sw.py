"""Kiswahili catalogue: the same keys as `bot.texts.en`, in everyday Kenyan Kiswahili.

M-Pesa's own words (PIN, M-Pesa, Fuliza) stay as customers know them from their phones.
"""

from __future__ import annotations

MONTHS = ("Jan", "Feb", "Mac", "Apr", "Mei", "Jun", "Jul", "Ago", "Sep", "Okt", "Nov", "Des")

TEXTS: dict[str, str] = {
    "menu_pay": "Lipa kwa M-Pesa",
    "menu_history": "Malipo yako",
    "menu_language": "Kiingereza au Kiswahili",
    "menu_help": "Jinsi ya kulipa",
    "menu_cancel": "Sitisha malipo ya sasa",
    "error_generic": (
        "Samahani, kuna hitilafu upande wetu. Hakuna pesa iliyokatwa. Tafadhali jaribu tena."
    ),
    "fail_2": "Kiasi ni chini ya kiwango cha chini cha M-Pesa. Jaribu kiasi kikubwa zaidi.",
    "fail_3": "Kiasi kinazidi kikomo cha M-Pesa kwa malipo moja. Jaribu kiasi kidogo zaidi.",
    "fail_4": "Umefikia kikomo chako cha M-Pesa cha siku. Jaribu tena kesho.",
    # --- welcome and help ---
    "welcome": (
        "Habari {name}! Ninapokea malipo ya M-Pesa kwa niaba ya {merchant}.\n\n"
        "Tuma /pay, niambie kiasi na namba yako ya Safaricom, thibitisha, kisha uweke PIN yako "
        "ya M-Pesa simu ikikuuliza. Nitakutumia risiti hapa.\n\n"
        "/history inaonyesha malipo yako, /language kubadilisha lugha, /help kwa maelezo zaidi."
    ),
    "welcome_bad_link": (
        "Kiungo hicho cha malipo si sahihi (kinapaswa kuwa kama pay-500 au pay-500-INV042), "
        "kwa hivyo sijajaza chochote. Bado unaweza kulipa: tuma /pay na uandike kiasi mwenyewe."
    ),
    "help": (
        "Jinsi ya kulipa {merchant}:\n"
        "1. Tuma /pay\n"
        "2. Andika kiasi kwa shilingi, mfano 500\n"
        "3. Shiriki au andika namba yako ya M-Pesa, mfano 0712 345 678\n"
        "4. Angalia maelezo kisha ubonyeze Thibitisha\n"
        "5. Simu yako itaonyesha ombi la M-Pesa: weka PIN yako\n\n"
        "Amri: /pay kulipa, /cancel kusitisha, /history kuona malipo yako, "
        "/language kuchagua Kiingereza au Kiswahili."
    ),
    "help_admin": (
        "Amri za wasimamizi: /status kwa leo, /status <namba, checkout id, risiti au simu> kwa "
        "malipo moja, /pending, /recent [n], /reconcile <namba>."
    ),
    # --- pay conversation ---
    "ask_amount": "Unataka kulipa {merchant} kiasi gani? Andika kiasi kwa shilingi, mfano 500.",
    "ask_phone": (
        "Unalipa {amount}. Ombi la malipo litumwe kwa namba gani ya M-Pesa? "
        "Bonyeza kitufe kushiriki namba yako, au uiandike (mfano 0712 345 678)."
    ),
    "ask_phone_last": "Unaweza pia kutumia namba ya mara iliyopita: {phone}.",
    "btn_share_phone": "📱 Shiriki namba yangu",
    "btn_last_phone": "Tumia {phone}",
    "confirm": (
        "Tafadhali hakikisha:\n"
        "Kiasi: {amount}\n"
        "Kwa: {merchant}\n"
        "Namba ya M-Pesa: {phone}\n"
        "{reference_line}"
        "\nBonyeza Thibitisha na simu yako itakuuliza PIN ya M-Pesa."
    ),
    "confirm_reference": "Kumbukumbu: {reference}\n",
    "btn_confirm": "✅ Thibitisha",
    "btn_cancel": "✖ Ghairi",
    "btn_try_again": "🔁 Jaribu tena",
    "preparing": "Namba {phone} ✓",
    "check_phone": (
        "Angalia simu yako na uweke PIN yako ya M-Pesa ili kulipa {amount} kwa {merchant}.\n"
        "Nitakujulisha hapa mara M-Pesa itakapojibu."
    ),
    "already_sent": "Tayari limetumwa: angalia simu yako uone ombi la M-Pesa.",
    "payment_closed": "Malipo haya yameshakamilika.",
    "draft_expired": (
        "Uthibitisho huu umepitwa na muda, kwa hivyo sikutuma ombi la M-Pesa. "
        "Tuma /pay kuanza upya."
    ),
    "cancelled": "Imeghairiwa. Hakuna pesa iliyokatwa. Tuma /pay kuanza upya.",
    "nothing_to_cancel": "Hakuna cha kughairi. Tuma /pay kufanya malipo.",
    "timeout": (
        "Nimeacha kusubiri jibu lako, kwa hivyo malipo haya hayakuanzishwa. "
        "Hakuna pesa iliyokatwa. Tuma /pay ukiwa tayari."
    ),
    "not_own_contact": (
        "Hiyo ni namba ya mtu mwingine. Kwa usalama wako, naweza kutuma ombi la M-Pesa kwa "
        "namba yako tu: bonyeza kitufe hapa chini, au andika namba."
    ),
    "hint_amount": "Nahitaji kiasi kwa tarakimu, mfano 500.",
    "hint_phone": "Nahitaji namba ya simu: bonyeza kitufe kushiriki yako, au uiandike.",
    "hint_confirm": "Tafadhali tumia kitufe cha Thibitisha au Ghairi hapo juu, au tuma /cancel.",
    "in_progress": (
        "Tayari una malipo yanayosubiri: {amount} kutoka {phone} (yalianza {when}). "
        "Yakamilishe kwenye simu yako au subiri yaishe, kisha ujaribu tena."
    ),
    "phone_busy": (
        "Namba hiyo tayari ina malipo ya M-Pesa yanayosubiri. "
        "Tafadhali jaribu tena baada ya dakika chache, au tumia namba nyingine."
    ),
    "push_limit": "Umeanzisha malipo mengi kwa muda mfupi. Tafadhali jaribu tena baada ya {wait}.",
    "callback_not_yours": "Kitufe hiki si chako.",
    "callback_invalid": "Kitufe hiki hakitumiki tena.",
    # --- amount problems ---
    "amount_invalid": (
        "Siwezi kupokea kiasi hicho. Andika shilingi kamili kati ya {minimum} na {maximum}."
    ),
    "amount_not_a_number": "“{text}” si namba. Andika kiasi kwa shilingi, mfano 500.",
    "amount_not_whole": (
        "M-Pesa inapokea shilingi kamili tu: tafadhali andika kiasi bila senti, mfano 10."
    ),
    "amount_too_small": "Kiasi cha chini kabisa ni {minimum}.",
    "amount_too_large": "Kiasi cha juu kabisa kwa malipo moja ya M-Pesa ni {maximum}.",
    "amount_again": "Unataka kulipa kiasi gani?",
    # --- phone problems ---
    "phone_invalid": (
        "Hiyo si namba ya simu ya Kenya ninayoweza kutumia kwa M-Pesa. "
        "Andika namba ya Safaricom kama 0712 345 678 au +254 712 345 678."
    ),
    "phone_again": "Nitumie namba gani ya M-Pesa?",
    # --- outcomes ---
    "paid": "Malipo yamefanikiwa ✓\nRisiti {receipt}\n{amount} kwa {merchant}\n{when}",
    "late_paid": (
        "Habari njema: M-Pesa sasa imethibitisha malipo yako.\n"
        "Malipo yamefanikiwa ✓\nRisiti {receipt}\n{amount} kwa {merchant}\n{when}"
    ),
    "failed": "Malipo ya {amount} hayakukamilika.\n{reason}",
    # Our own timeout: M-Pesa never confirmed either way (see en.py).
    "expired": (
        "Malipo ya {amount}: sijapata uthibitisho wowote kutoka M-Pesa, kwa hivyo nimeacha "
        "kusubiri.\n"
        "Ikiwa pesa zimetoka kwenye akaunti yako ya M-Pesa, nitakujulisha hapa mara tu M-Pesa "
        "itakapothibitisha.\n"
        "Tafadhali angalia SMS zako za M-Pesa kabla ya kubonyeza Jaribu tena, usije ukalipa "
        "mara mbili."
    ),
    "push_failed": "Sikuweza kutuma ombi la M-Pesa la {amount}.\n{reason}",
    "fail_1": (
        "Salio lako la M-Pesa halitoshi kwa kiasi hiki. Ongeza salio au tumia Fuliza, "
        "kisha ujaribu tena."
    ),
    "fail_17": (
        "M-Pesa haikubali kiasi kilekile kutoka namba ileile mara mbili ndani ya dakika 2. "
        "Subiri dakika 2 kisha ujaribu tena."
    ),
    "fail_1001": (
        "Simu yako ilikuwa na ombi lingine la M-Pesa. Limalize au ulifunge, subiri dakika moja, "
        "kisha ujaribu tena."
    ),
    "fail_1019": "Ombi la M-Pesa liliisha muda kabla PIN haijawekwa. Hakuna pesa iliyokatwa.",
    "fail_1025": "M-Pesa haikuweza kutuma ombi kwenye simu yako. Tafadhali jaribu tena.",
    "fail_1032": "Umeghairi ombi kwenye simu. Hakuna pesa iliyokatwa.",
    "fail_1037": (
        "Simu yako haikupatikana au haikujibu. Hakikisha imewashwa, ina mtandao na skrini "
        "haijafungwa, kisha ujaribu tena."
    ),
    "fail_2001": (
        "PIN ya M-Pesa haikuwa sahihi. Hakuna pesa iliyokatwa. Jaribu tena ukitumia PIN sahihi."
    ),
    "fail_8006": (
        "PIN yako ya M-Pesa imefungwa baada ya majaribio mengi yasiyo sahihi. Piga *334# au "
        "piga 100 kuifungua, kisha ujaribu tena."
    ),
    "fail_2028": (
        "Akaunti ya M-Pesa ya mfanyabiashara haijawekwa sawa kwa malipo haya. Hakuna pesa "
        "iliyokatwa. Tafadhali mjulishe {merchant}."
    ),
    "fail_SFC_IC0003": (
        "Akaunti ya M-Pesa ya mfanyabiashara haijawekwa sawa kwa malipo haya. Hakuna pesa "
        "iliyokatwa. Tafadhali mjulishe {merchant}."
    ),
    "fail_outcome_cancelled": "Malipo yameghairiwa. Hakuna pesa iliyokatwa.",
    "fail_outcome_expired": "Ombi la malipo liliisha muda. Hakuna pesa iliyokatwa.",
    "fail_outcome_failed": (
        "M-Pesa haikukamilisha malipo. Hakuna pesa iliyokatwa. Tafadhali jaribu tena."
    ),
    "fail_outcome_unknown": (
        "M-Pesa haikukamilisha malipo. Ikiwa pesa ilitoka kwenye akaunti yako, "
        "hifadhi SMS ya M-Pesa na uwasiliane na {merchant}."
    ),
    "push_subscriber_locked": (
        "Simu yako tayari ina ombi la M-Pesa lililo wazi. Limalize au ulifunge, "
        "kisha ujaribu tena baada ya {wait}."
    ),
    "push_rate_limited": "M-Pesa ina shughuli nyingi sasa. Tafadhali jaribu tena baada ya {wait}.",
    "push_invalid_phone": (
        "M-Pesa haikukubali namba hiyo ya simu. Hakikisha ni namba ya Safaricom yenye M-Pesa "
        "kisha ujaribu tena."
    ),
    "push_unavailable": (
        "M-Pesa haikupatikana. Hakuna pesa iliyokatwa. "
        "Tafadhali jaribu tena baada ya dakika chache."
    ),
    "push_generic": (
        "Malipo hayakuweza kuanzishwa kwa sababu ya tatizo upande wetu. Hakuna pesa iliyokatwa. "
        "Tafadhali mjulishe {merchant}."
    ),
    # --- history ---
    "history_empty": "Bado huna malipo. Tuma /pay kufanya malipo.",
    "history_header": "Malipo yako ya karibuni:",
    "history_line": "{when} · {amount} · {status}{receipt}",
    "status_created": "hayajaanza",
    "status_pushing": "ombi linatumwa",
    "status_pending": "inasubiri PIN",
    "status_paid": "yamelipwa",
    "status_failed": "hayakufanikiwa",
    "status_cancelled": "yameghairiwa",
    "status_expired": "yameisha muda",
    "status_push_failed": "ombi halikutumwa",
    "status_unknown": "tunathibitisha na M-Pesa",
    # --- language ---
    "language_prompt": "Chagua lugha yako:",
    "language_set": "Sawa, nitazungumza Kiswahili.",
    "btn_lang_en": "English",
    "btn_lang_sw": "Kiswahili",
    # --- admin ---
    "admin_only": "Samahani, amri hiyo ni ya wafanyakazi wa duka tu.",
    "admin_summary": (
        "Leo ({day}), {env}\n"
        "{counts}\n"
        "Zilizopokelewa: {total}\n"
        "Kiwango cha mafanikio: {rate}\n"
        "Yanayosubiri sasa: {pending}\n"
        "Callback ya mwisho: {last_callback}"
    ),
    "admin_no_callback": "bado hakuna",
    "admin_ago": "sekunde {seconds} zilizopita",
    "admin_payment": (
        "Malipo {id}: {amount}, {phone}, {status}\n"
        "Checkout: {checkout}\n"
        "Risiti: {receipt}\n"
        "Jibu: {result}\n"
        "Mfuatano:\n{timeline}"
    ),
    "admin_live_query": "Ulizo la moja kwa moja: {answer}",
    "admin_live_processing": "bado yanashughulikiwa",
    "admin_not_found": "Hakuna malipo yanayolingana na {ref}.",
    "admin_pending_empty": "Hakuna yanayosubiri.",
    "admin_pending_header": "Malipo yanayosubiri:",
    "admin_recent_empty": "Bado hakuna malipo.",
    "admin_recent_header": "Malipo {n} ya mwisho:",
    "admin_payment_line": "#{id} {when} · {amount} · {phone} · {status}",
    "admin_reconcile_usage": "Matumizi: /reconcile <namba ya malipo>",
    "admin_reconciled": "Nimeuliza M-Pesa kuhusu malipo {id}: sasa {status}.",
    "admin_alert": "⚠ Malipo #{payment_id}: {topic}. {facts}. Angalia /status {payment_id}.",
    "none": "—",
    "wait_second": "sekunde 1",
    "wait_seconds": "sekunde {n}",
    "wait_minutes": "dakika {n}",
    # --- the shop: /link, /export, /find, /report, daily summary ---
    "help_shop": (
        "Kwa duka: /link [kiasi] [kumbukumbu] kwa msimbo wa QR wa malipo, /export [kipindi] kwa "
        "faili ya CSV ya malipo, /find <risiti, kumbukumbu au tarakimu za simu>, "
        "/report [7d au 30d] kwa chati."
    ),
    "menu_status": "Malipo ya leo, au malipo moja",
    "menu_pending": "Malipo yanayosubiri M-Pesa",
    "menu_recent": "Malipo ya karibuni",
    "menu_reconcile": "Uliza M-Pesa kuhusu malipo",
    "menu_link": "Kiungo na msimbo wa QR wa malipo",
    "menu_export": "Malipo kama faili ya CSV",
    "menu_find": "Tafuta malipo",
    "menu_report": "Chati ya mapato",
    "link_caption": (
        "Kiungo cha kulipa {merchant}, {amount}{reference}:\n{link}\n\n"
        "Chapisha msimbo au tuma kiungo: mteja anaupiga picha, anabonyeza Start na kuthibitisha "
        "namba yake."
    ),
    "link_caption_any": (
        "Kiungo cha kulipa {merchant}; mteja ataandika kiasi mwenyewe:\n{link}\n\n"
        "Chapisha msimbo au tuma kiungo: mteja anaupiga picha, anabonyeza Start na kuandika "
        "kiasi."
    ),
    "link_reference": ", kumbukumbu {reference}",
    "link_image_amount": "Lipa {amount}",
    "link_image_reference": "Lipa {amount} · {reference}",
    "link_image_any": "Lipa kwa M-Pesa",
    "link_bad_amount": (
        "{text} si kiasi ninachoweza kuweka kwenye kiungo: tumia shilingi kamili kuanzia "
        "{minimum} hadi {maximum}, kwa mfano /link 500 au /link 500 INV042. /link peke yake "
        "hutengeneza kiungo ambapo mteja anaandika kiasi."
    ),
    "link_bad_reference": (
        "Kumbukumbu {reference} haiwezi kuwekwa kwenye kiungo: tumia hadi herufi 12, tarakimu "
        "au _ (bila nafasi wala vistari), kwa mfano /link 500 INV042."
    ),
    "range_bad_format": (
        'Sielewi "{text}" kama tarehe. Tumia leo, jana, 7d, 30d, siku moja kama 2026-12-01, '
        "au siku mbili kama 2026-11-01..2026-11-30."
    ),
    "range_bad_order": (
        "Kipindi {text} kinaisha kabla ya kuanza: weka siku ya mapema kwanza, kwa mfano "
        "2026-11-01..2026-11-30."
    ),
    "range_bad_too_long": "Kipindi hicho ni zaidi ya siku {days}: kiombe kwa sehemu.",
    "export_empty": (
        "Hakuna malipo kuanzia {first} hadi {last} (saa za Nairobi): hakuna cha kutoa."
    ),
    "export_caption": "Malipo kuanzia {first} hadi {last} (saa za Nairobi): safu {rows}.",
    "export_columns": (
        "yalianzishwa (Nairobi)|yalikamilika (Nairobi)|kiasi|kiasi kilicholipwa|hali|"
        "namba ya jibu|sababu|risiti|kumbukumbu|simu|namba ya Telegram"
    ),
    "find_usage": (
        "Matumizi: /find <risiti ya M-Pesa, kumbukumbu au simu>; kwa simu tarakimu 3 au zaidi "
        "za mwisho zinatosha, kwa mfano /find TBF34EVY55, /find INV042 au /find 678."
    ),
    "find_none": "Hakuna malipo yanayolingana na {search}.",
    "find_header": "Malipo yanayolingana na {search}: {total}",
    "find_more": (
        "Ninaonyesha {shown} ya karibuni kati ya {total}: tafuta kwa maneno marefu zaidi "
        "kuona mengine."
    ),
    "report_usage": "Matumizi: /report 7d au /report 30d (7d usipoandika kitu).",
    "report_title": "{merchant}: {first} hadi {last}",
    "report_axis_takings": "Mapato (KES)",
    "report_axis_rate": "Kiwango cha mafanikio",
    "report_totals": (
        "{first} hadi {last} (saa za Nairobi)\n"
        "Mapato: {takings} kutoka malipo {paid} yaliyolipwa\n"
        "Malipo: {count}, kiwango cha mafanikio {rate}\n"
        "Wastani kwa siku: {average}\n"
        "Siku bora: {best_day}, {best}"
    ),
    "summary": (
        "📊 {merchant}, {day} hadi {time}\n"
        "Mapato: {takings} kutoka malipo {paid} yaliyolipwa\n"
        "Malipo: {count}, kiwango cha mafanikio {rate}\n"
        "{failures}\n"
        "Yaliyowekwa alama kukaguliwa: {flagged} · Majibu ya M-Pesa yasiyolingana: {unmatched}\n\n"
        "Siku kama hii wiki iliyopita ({last_day}, hadi {time}): {last_takings} kutoka malipo "
        "{last_paid} yaliyolipwa, malipo {last_count}, kiwango cha mafanikio {last_rate}.{change}"
    ),
    "summary_up": " Mapato yamepanda kwa {percent}.",
    "summary_down": " Mapato yameshuka kwa {percent}.",
    "summary_same": " Mapato ni yale yale.",
    "summary_no_failures": "Yasiyofanikiwa: hakuna",
    "summary_failures": "Yasiyofanikiwa:",
    "summary_failure_line": "• {status} (namba {code}): {n}",
    "summary_no_code": "bila namba",
    "export_too_big": (
        "Faili hiyo ingekuwa MB {mb}, zaidi ya Telegram inavyoruhusu bot kutuma (MB 50): omba "
        "kipindi kifupi zaidi."
    ),
    "sending_prompt": "Ninatuma ombi la M-Pesa kwenye simu yako…",
}
