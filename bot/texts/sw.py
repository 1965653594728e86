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
    "error_generic": "Samahani, kuna hitilafu upande wetu. Tafadhali jaribu tena.",
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
    "payment_closed": "Malipo haya yameshamalizika.",
    "draft_expired": (
        "Muda wa uthibitisho huu umekwisha, kwa hivyo sikutuma ombi la M-Pesa. "
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
    "amount_not_a_number": (
        "Andika kiasi kwa tarakimu, k.m. 500. Sikuweza kusoma kiasi katika “{text}”."
    ),
    "amount_not_whole": (
        "M-Pesa inapokea shilingi kamili tu: tafadhali andika kiasi bila senti, mfano 10."
    ),
    "amount_too_small": "Kiasi cha chini kabisa ni {minimum}.",
    "amount_too_large": "Kiasi cha juu kabisa kwa malipo moja ya M-Pesa ni {maximum}.",
    "amount_again": "Unataka kulipa kiasi gani?",
    # --- phone problems ---
    "phone_invalid": (
        "Siwezi kutuma ombi la M-Pesa kwa namba hiyo: nahitaji namba ya simu ya Kenya. "
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
    "status_pending": "yanasubiri PIN",
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
        "Jibu la mwisho la M-Pesa: {last_callback}"
    ),
    "admin_no_callback": "bado hakuna",
    "admin_ago": "sekunde {seconds} zilizopita",
    "admin_payment": (
        "Malipo {id}: {amount}, {phone}, {status}\n"
        "Checkout: {checkout}\n"
        "Risiti: {receipt}\n"
        "M-Pesa ilisema: {result}\n"
        "Yaliyotokea:\n{timeline}"
    ),
    "admin_live_query": "Nimeiuliza M-Pesa sasa hivi: {answer}",
    "admin_live_processing": "bado yanashughulikiwa",
    "admin_not_found": "Hakuna malipo yanayolingana na {ref}.",
    "admin_pending_empty": "Hakuna yanayosubiri.",
    "admin_pending_header": "Malipo yanayosubiri:",
    "admin_recent_empty": "Bado hakuna malipo.",
    "admin_recent_header": "Malipo {n} ya mwisho:",
    "admin_payment_line": "#{id} {when} · {amount} · {phone} · {status}",
    "admin_reconcile_usage": "Matumizi: /reconcile <namba ya malipo>",
    "admin_reconciled": "Nimeiuliza M-Pesa kuhusu malipo {id}: sasa {status}.",
    "admin_alert": (
        "⚠ Malipo #{payment_id} yanahitaji kuangaliwa ({topic}). Checkout {checkout}. "
        "Angalia /status {payment_id}."
    ),
    "none": "—",
    "wait_second": "sekunde 1",
    "wait_seconds": "sekunde {n}",
    "wait_minutes": "dakika {n}",
    # --- never silent (issue 13) ---
    "pointer": (
        "Ninapokea malipo ya M-Pesa kwa niaba ya {merchant}. Tuma /pay kulipa, au andika tu "
        "kiasi (k.m. 500). /help inaeleza jinsi inavyofanya kazi."
    ),
    "pointer_waiting": (
        "Malipo yako ya {amount} yanaendelea: angalia simu yako na uweke PIN yako ya M-Pesa. "
        "Nitakujulisha hapa mara tu M-Pesa itakapojibu. /help kwa maelezo zaidi."
    ),
    "unknown_command": "Sijui amri {command}.",
    "button_stale": "Kitufe hiki hakitumiki tena.",
    "confirm_replaced": (
        "Malipo haya yamebadilishwa na malipo yako mapya: hakuna ombi la M-Pesa lililotumwa "
        "kwa haya. Hakuna pesa iliyokatwa."
    ),
    "confirm_expired": (
        "Muda wa kuthibitisha umekwisha kabla hujathibitisha: hakuna ombi la M-Pesa "
        "lililotumwa. Hakuna pesa iliyokatwa. Tuma /pay kuanza upya."
    ),
    "confirm_ended": (
        "Malipo haya yalisitishwa kabla ombi lolote la M-Pesa halijatumwa. Hakuna pesa "
        "iliyokatwa. Tuma /pay kuanza upya."
    ),
    "amount_ambiguous": (
        "Ulimaanisha {thousands}? Katika “{text}” nukta inaweza kutenganisha maelfu au senti, "
        "kwa hivyo tafadhali andika kiasi bila nukta, k.m. {plain}."
    ),
    "phone_not_safaricom": (
        "Namba hiyo ni ya {network}, na maombi ya M-Pesa hufika kwenye laini za Safaricom tu. "
        "Tafadhali andika namba yako ya Safaricom yenye M-Pesa, k.m. 0712 345 678."
    ),
    "network_airtel": "Airtel",
    "network_telkom": "Telkom",
    "network_other": "mtandao mwingine",
    # --- admin views in words ---
    "admin_status_line": "Hali: {status}",
    "admin_flagged_amount_mismatch": (
        "yamealamishwa: kiasi hakilingani (kimelipwa {paid}, kilitarajiwa {expected})"
    ),
    "admin_flagged_receipt_conflict": (
        "yamealamishwa: risiti ya M-Pesa kwa malipo haya tayari ni ya malipo mengine"
    ),
    "admin_flagged": "yamealamishwa: {reason}",
    "admin_reconcile_no_query": "Sikuiuliza M-Pesa kuhusu malipo {id}: {why}.",
    "admin_no_query_final": "hali yake ni {status}, na haitabadilika tena",
    "admin_no_query_flagged": "yamealamishwa ili mtu ayaangalie",
    "admin_no_query_not_pushed": "M-Pesa haikuwahi kupokea ombi lake ({status})",
    "alert_amount_mismatch": (
        "⚠ Malipo #{payment_id}: M-Pesa inasema {paid} zimelipwa, lakini {expected} ndizo "
        "zilizoombwa, kwa hivyo hayakuwekwa kuwa yamelipwa. Risiti {receipt}, checkout "
        "{checkout}. Tafadhali yaangalie: /status {payment_id}."
    ),
    "alert_receipt_conflict": (
        "⚠ Malipo #{payment_id}: M-Pesa imetuma risiti {receipt}, ambayo tayari ni ya malipo "
        "mengine, kwa hivyo hayakuwekwa kuwa yamelipwa. Checkout {checkout}. "
        "Tafadhali yaangalie: /status {payment_id}."
    ),
    "alert_second_receipt": (
        "⚠ Malipo #{payment_id} yalikuwa yameshalipwa, na sasa M-Pesa imetuma risiti ya pili, "
        "{receipt}: huenda mteja amelipa mara mbili. Checkout {checkout}. "
        "Tafadhali yaangalie: /status {payment_id}."
    ),
    "alert_paid_after_final": (
        "⚠ Malipo #{payment_id}: M-Pesa sasa inasema yamelipwa ({paid}, risiti {receipt}) "
        "baada ya mteja kuambiwa kuwa hayakufanikiwa. Checkout {checkout}. "
        "Tafadhali yaangalie: /status {payment_id}."
    ),
    "event_created": "yameundwa",
    "event_push_requested": "ombi limeagizwa",
    "event_pushed": "ombi limetumwa",
    "event_push_failed": "ombi halikutumwa",
    "event_push_unknown": "haijulikani kama ombi lilitumwa",
    "event_callback": "jibu la M-Pesa",
    "event_query": "tuliiuliza M-Pesa",
    "event_c2b": "malipo kupitia menyu ya M-Pesa (C2B)",
    "event_c2b_validation": "M-Pesa iliuliza kama ikubali malipo ya menyu",
    "event_attached": "malipo ya menyu yamepewa na msimamizi",
    "event_query_pending": "tuliiuliza M-Pesa: bado yanashughulikiwa",
    "event_query_error": "kuiuliza M-Pesa kulishindikana",
    "event_duplicate": "jibu lililorudiwa",
    "event_conflict": "jibu linalopingana",
    "event_late_result": "jibu lililochelewa",
    "event_details": "maelezo yameongezwa",
    "event_amount_mismatch": "kiasi hakilingani",
    "event_receipt_conflict": "mgongano wa risiti",
    "event_unknown_checkout": "checkout isiyojulikana",
    "event_expired": "muda umekwisha",
    "event_cancelled": "yameghairiwa",
    "event_notified": "mteja amejulishwa",
    "admin_detail_code": "msimbo {code}",
    "admin_detail_receipt": "risiti {receipt}",
    "admin_detail_by": "na {who}",
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
    # --- ukweli, hata jibu likichelewa (see en.py) ---
    "receipt_to_follow": "iko kwenye SMS yako ya M-Pesa (itaonekana hapa M-Pesa ikiituma)",
    "flagged": (
        "Tumepokea malipo yako ya {amount} ✓\n"
        "{merchant} wanayakagua na watawasiliana nawe. Tafadhali hifadhi SMS yako ya M-Pesa."
    ),
    "announcement": (
        "💰 {amount} kutoka kwa {customer} ({phone}) · risiti {receipt} · kumb. {reference}"
    ),
    "announcement_no_name": "mteja",
    "error_checking": (
        "Samahani, kuna hitilafu upande wetu. Malipo yako ya {amount} yanakaguliwa na M-Pesa: "
        "nitakujulisha hapa yalivyoishia. Tafadhali usilipe tena hadi wakati huo."
    ),
    "error_unsure": (
        "Samahani, kuna hitilafu upande wetu. Kama ombi la M-Pesa lilifika kwenye simu yako, "
        "malipo yanakaguliwa na M-Pesa na nitakujulisha hapa yalivyoishia."
    ),
    "alert_paid_after_all": (
        "✅ Malipo #{payment_id}: M-Pesa sasa imethibitisha yalilipwa ({paid}, risiti "
        "{receipt}) ingawa jibu la awali lilisema hayakufanikiwa. Yamewekwa kuwa yamelipwa na "
        "mteja amejulishwa. Checkout {checkout}: /status {payment_id}."
    ),
    "alert_unmatched_stk": (
        "⚠ M-Pesa imechukua {paid} kutoka {phone} (risiti {receipt}, checkout {checkout}), "
        "lakini hayalingani na malipo yoyote hapa. Huenda ni: {candidates}. Tafadhali "
        "yakague kwa /status na umalize jambo hili na mteja."
    ),
    "admin_customer_not_told": (
        "⚠ Malipo #{payment_id}: mteja hakuweza kujulishwa ({message}). Namba ya M-Pesa "
        "{customer}, risiti {receipt}, KES {amount}. Telegram ilisema: {error}. Tafadhali "
        "mfikie kwa njia nyingine. Angalia /status {payment_id}."
    ),
    "push_limit_phone": (
        "Namba hiyo imepokea maombi kadhaa ya M-Pesa ndani ya saa moja iliyopita. Ili kuilinda, "
        "tafadhali jaribu tena baada ya {wait}."
    ),
    # C2B: malipo kupitia menyu ya M-Pesa (docs/DARAJA.md §11)
    "btn_pay_from_menu": "📱 Lipa kupitia menyu ya M-Pesa badala yake",
    "menu_steps_paybill": (
        "Lipa {amount} kupitia menyu ya M-Pesa:\n"
        "1. M-PESA (SIM toolkit au programu ya M-PESA) → Lipa na M-PESA → Pay Bill\n"
        "2. Namba ya biashara: {business}\n"
        "3. Namba ya akaunti: {account}\n"
        "4. Kiasi: {amount_plain}\n"
        "5. Weka PIN yako ya M-Pesa na uthibitishe.\n"
        "Andika namba ya akaunti kama ilivyo: ndiyo inayomwonyesha {merchant} kwamba pesa ni "
        "zako. Ujumbe huu utabadilika kuwa umelipwa mara pesa zitakapofika."
    ),
    "menu_steps_till": (
        "Lipa {amount} kupitia menyu ya M-Pesa:\n"
        "1. M-PESA (SIM toolkit au programu ya M-PESA) → Lipa na M-PESA → Buy Goods and "
        "Services\n"
        "2. Namba ya till: {till}\n"
        "3. Kiasi: {amount_plain}\n"
        "4. Weka PIN yako ya M-Pesa na uthibitishe.\n"
        "Lipa kutoka simu hii ({phone}) na kiasi hiki hasa, ili {merchant} ajue pesa ni zako. "
        "Ujumbe huu utabadilika kuwa umelipwa mara pesa zitakapofika."
    ),
    "menu_fallback_intro": "Ombi halikuweza kufika kwenye simu yako, lakini bado unaweza kulipa:",
    "admin_alert_unlinked": "⚠ Tahadhari: {topic}. {facts}.",
    "alert_unmatched_c2b": (
        "⚠ Malipo ya M-Pesa hayalingani na malipo yoyote: {amount} kutoka {payer} {name}, "
        'akaunti "{account}", risiti {trans_id} ({why}).\n'
        "Yamehifadhiwa kama C2B #{c2b_id}. /attach {c2b_id} <namba ya malipo> huyapa malipo; "
        "/unmatched inaonyesha mengine."
    ),
    "c2b_why_no_account": "hakuna malipo yenye namba hii ya akaunti",
    "c2b_why_no_reference": "hakuna namba ya akaunti iliyoandikwa",
    "c2b_why_second_payment": "malipo hayo yalikuwa yamelipwa tayari: mteja amelipa mara mbili",
    "c2b_why_payment_flagged": "malipo hayo yanasubiri msimamizi",
    "unmatched_empty": "Hakuna malipo ya M-Pesa yasiyolingana.",
    "unmatched_header": "Malipo ya M-Pesa yasiyolingana, mapya kwanza:",
    "unmatched_line": (
        'C2B #{id} · {when} · {amount} · akaunti "{account}" · {payer} {name} · {receipt} ({why})'
    ),
    "unmatched_footer": "Yape malipo kwa /attach <namba ya C2B> <namba ya malipo>.",
    "attach_usage": (
        "Matumizi: /attach <namba ya C2B> <namba ya malipo>, mfano /attach 3 120 (tazama "
        "/unmatched)."
    ),
    "attach_done": (
        "C2B #{c2b_id} ({receipt}, {amount}) sasa ni ya malipo #{payment_id}: {status}."
    ),
    "attach_refused": "Siwezi kuipa C2B #{c2b_id} malipo #{payment_id}: {reason}.",
    "menu_unmatched": "Malipo ya M-Pesa yasiyolingana na malipo yoyote",
    "menu_attach": "Kuyapa malipo ya M-Pesa yasiyolingana malipo",
    "sending_prompt": "Ninatuma ombi la M-Pesa kwenye simu yako…",
}
