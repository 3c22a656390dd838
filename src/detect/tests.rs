//! Unit tests of the detector as a whole. Numbers are Skatteverket test personnummer
//! (`../shared/testdata/skatteverket/testpersonnummer.csv`) or published reserve-number examples;
//! assertion messages show redacted forms only.

use super::*;

fn detector() -> Detector {
    Detector::new(&DetectSettings::default(), HashKey::from_bytes([7; 32])).unwrap()
}

fn scan(text: &str) -> Vec<Finding> {
    detector().scan(text, &Context::default())
}

/// (redacted, confidence) of the identity findings.
fn ids(text: &str) -> Vec<(String, Confidence)> {
    scan(text)
        .into_iter()
        .filter(|f| !f.is_weak_signal())
        .map(|f| (f.redacted, f.confidence))
        .collect()
}

fn conf(text: &str) -> Option<Confidence> {
    let found = ids(text);
    assert!(found.len() <= 1, "more than one finding: {found:?}");
    found.first().map(|f| f.1)
}

use Confidence::{High, Low, Medium};

#[test]
fn finds_common_forms_and_redacts_all_digits() {
    assert_eq!(ids("pnr 861208-2399 tack"), [("******-****".into(), High)]);
    assert_eq!(ids("19861208-2399"), [("********-****".into(), Medium)]);
    assert_eq!(ids("198612082399."), [("************".into(), Medium)]);
    assert_eq!(ids("(8612082399)"), [("**********".into(), Low)]);
    assert_eq!(ids("701063-2391"), [("******-****".into(), Medium)]);
    assert_eq!(scan("701063-2391")[0].kind, FindingKind::Samordningsnummer);
}

#[test]
fn ignores_invalid_and_embedded_numbers() {
    for t in [
        "861208-2398",
        "+46861208239912",
        "x8612082399",
        "18612082399",
        "070-123 45 67",
        "0701234567 ",
        "Ring 0701234567",
    ] {
        assert!(ids(t).is_empty(), "{}", redact(t));
    }
}

#[test]
fn same_number_same_hash_in_any_form() {
    let d = detector();
    let forms = ["861208-2399", "198612082399", "19861208-2399", "8612082399"];
    let hashes: Vec<String> = forms
        .iter()
        .map(|t| d.scan(t, &Context::default())[0].hash.clone())
        .collect();
    assert!(hashes.windows(2).all(|w| w[0] == w[1]));
    let other = Detector::new(&DetectSettings::default(), HashKey::from_bytes([8; 32])).unwrap();
    assert_ne!(other.scan(forms[0], &Context::default())[0].hash, hashes[0]);
    assert_eq!(d.scan(forms[0], &Context::default())[0].span, 0..11);
}

#[test]
fn confidence_scale() {
    // Strong forms: medium alone, high with a keyword, one step down with a negative one.
    assert_eq!(conf("19861208-2399"), Some(Medium));
    assert_eq!(conf("Patienten 19861208-2399"), Some(High));
    assert_eq!(conf("journalanteckning för 861208-2399"), Some(High));
    assert_eq!(conf("order 19861208-2399"), Some(Low));
    assert_eq!(conf("patientens order 19861208-2399"), Some(Medium));
    // Phone words do not lower a strong form (no phone number is written that way).
    assert_eq!(conf("ring tillbaka ang 19861208-2399"), Some(Medium));
    assert_eq!(conf("Patienten 861208-2399, ring anhörig"), Some(High));
    // Weak forms: low alone, medium with a keyword, dropped with a negative one.
    assert_eq!(conf("8612082399"), Some(Low));
    assert_eq!(conf("Brukarens 8612082399"), Some(Medium));
    assert_eq!(conf("861208 2399 pnr"), Some(Medium));
    assert_eq!(conf("pnr 8612082399 tel"), None);
    assert_eq!(conf("Ring patienten på 8612082399"), None);
    // A bare number that looks like a mobile needs an identity keyword.
    assert_eq!(conf("0701012395"), Some(Low));
    assert_eq!(conf("patient 0701012395"), Some(Low));
    assert_eq!(conf("pnr 0701012395"), Some(Medium));
    assert_eq!(conf("pnr 070101-2395"), Some(High));
}

#[test]
fn keywords_need_a_word_start_and_the_window() {
    assert_eq!(conf("superpatienten 8612082399"), Some(Low));
    let mut s = DetectSettings {
        window: 10,
        ..DetectSettings::default()
    };
    let d = Detector::new(&s, HashKey::from_bytes([1; 16])).unwrap();
    let far = format!("pnr{}8612082399", " ".repeat(20));
    assert_eq!(d.scan(&far, &Context::default())[0].confidence, Low);
    s.window = 300;
    let d = Detector::new(&s, HashKey::from_bytes([1; 16])).unwrap();
    assert_eq!(d.scan(&far, &Context::default())[0].confidence, Medium);
}

#[test]
fn related_texts_give_positive_context_only() {
    let d = detector();
    let ctx = Context {
        related: &["Vårdplanering för patient"],
        time: None,
    };
    assert_eq!(d.scan("8612082399", &ctx)[0].confidence, Medium);
    assert_eq!(d.scan("19861208-2399", &ctx)[0].confidence, High);
    let ctx = Context {
        related: &["Telefonmöte"],
        time: None,
    };
    assert_eq!(d.scan("8612082399", &ctx)[0].confidence, Low);
}

#[test]
fn reserve_and_interim_ids() {
    let find = |t: &str| {
        let f = scan(t);
        assert_eq!(f.len(), 1, "{}", redact(t));
        (f[0].kind.clone(), f[0].confidence, f[0].redacted.clone())
    };
    let reserv = |issuer: &str| FindingKind::Reservnummer {
        issuer: issuer.into(),
    };
    assert_eq!(
        find("res 000101-T220"),
        (FindingKind::Interim, Medium, "******-****".into())
    );
    assert_eq!(find("reservnr 22950606-FH20").0, reserv("national"));
    assert_eq!(find("reservnr 22950606-FH20").1, High);
    assert_eq!(find("991981000010").0, reserv("stockholm"));
    assert_eq!(find("19810829M071").0, reserv("vgr"));
    assert_eq!(find("198108320014").0, reserv("carelink"));
    assert_eq!(find("19810829SU3A").0, reserv("varmland"));
    assert_eq!(find("19810829SU3A").1, Low);
    assert_eq!(find("pat 19810829SU3A").1, Medium);
    assert_eq!(find("12345678TA0A").0, reserv("orebro"));
    assert_eq!(find("19810829AB12").0, reserv("unknown"));
    assert_eq!(find("19810829AB12").0.to_string(), "reservnummer (unknown)");
}

#[test]
fn formats_can_be_switched_off() {
    let mut s = DetectSettings::default();
    s.formats.vgr = false;
    s.formats.unknown_reserve = false;
    s.formats.samordningsnummer = false;
    s.formats.clinical_terms = false;
    let d = Detector::new(&s, HashKey::from_bytes([1; 16])).unwrap();
    assert!(d.scan("19810829M071", &Context::default()).is_empty());
    assert!(d.scan("701063-2391", &Context::default()).is_empty());
    assert!(d.scan("diabetes", &Context::default()).is_empty());
    assert_eq!(d.scan("861208-2399", &Context::default()).len(), 1);
}

#[test]
fn icd_codes_and_clinical_terms_are_weak() {
    let f = scan("Dg F32.1, insulin");
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].kind, FindingKind::Icd10);
    assert_eq!(f[0].redacted, "***.*");
    assert_eq!(f[1].kind, FindingKind::ClinicalTerm);
    assert!(f.iter().all(|f| f.confidence == Low && f.is_weak_signal()));
    // Short ICD forms only with a diagnosis keyword.
    assert!(scan("rum F329").is_empty());
    assert_eq!(scan("diagnos F329")[0].kind, FindingKind::Icd10);
    let d = detector();
    assert!(!d.is_patient_data(&f));
    // A low identifier together with a clinical signal is patient data.
    let f = scan("8612082399 ska ha Waran 2,5 mg");
    assert!(d.is_patient_data(&f), "{f:?}");
    assert!(!d.is_patient_data(&scan("8612082399")));
    assert!(d.is_patient_data(&scan("19861208-2399")));
    // With a stricter threshold the clinical signal raises a low identifier to medium only.
    let strict = DetectSettings {
        min_confidence: High,
        ..DetectSettings::default()
    };
    let strict = Detector::new(&strict, HashKey::from_bytes([7; 32])).unwrap();
    assert!(!strict.is_patient_data(&strict.scan("8612082399 ska ha Waran", &Context::default())));
    assert!(
        strict.is_patient_data(&strict.scan("19861208-2399 ska ha Waran", &Context::default()))
    );
    assert!(!strict.is_patient_data(&strict.scan("19861208-2399", &Context::default())));
}

#[test]
fn custom_patterns() {
    let toml = r#"
        [[custom]]
        name = "skane"
        regex = '\b\d{8}-[A-Z]\d{2}[A-Z]\b'
        keywords = ["reserv"]
        check = "date"
        kind = "reservnummer"
        confidence = "high"

        [[custom]]
        name = "kombika"
        regex = '\bKOMBIKA-\d{4}\b'
        confidence = "low"
    "#;
    let mut s: DetectSettings = toml::from_str(toml).unwrap();
    s.formats.unknown_reserve = false;
    let d = Detector::new(&s, HashKey::from_bytes([1; 16])).unwrap();
    let one = |t: &str| {
        let f = d.scan(t, &Context::default());
        assert_eq!(f.len(), 1, "{f:?}");
        f.into_iter().next().unwrap()
    };
    let f = one("reservnr 19810829-A12B");
    assert_eq!(f.kind.to_string(), "reservnummer (skane)");
    assert_eq!(f.confidence, High);
    assert_eq!(f.redacted, "********-****");
    assert_eq!(one("19810829-A12B").confidence, Medium);
    assert_eq!(one("ref 19810829-A12B").confidence, Low);
    assert!(d.scan("19811329-A12B", &Context::default()).is_empty());
    assert_eq!(
        one("KOMBIKA-1234").kind,
        FindingKind::Custom("kombika".into())
    );
}

#[test]
fn overlapping_custom_and_builtin_keep_the_stronger() {
    let s: DetectSettings = toml::from_str(
        r#"
        [[custom]]
        name = "allt"
        regex = '\d{6}-\d{4}'
        confidence = "high"
    "#,
    )
    .unwrap();
    let d = Detector::new(&s, HashKey::from_bytes([1; 16])).unwrap();
    let f = d.scan("x 861208-2399 y", &Context::default());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].kind, FindingKind::Custom("allt".into()));
}

#[test]
fn settings_errors_name_the_key() {
    let err = toml::from_str::<DetectSettings>("windw = 3")
        .unwrap_err()
        .to_string();
    assert!(err.contains("windw"), "{err}");
    let err = toml::from_str::<DetectSettings>("[formats]\nvgrr = false")
        .unwrap_err()
        .to_string();
    assert!(err.contains("vgrr"), "{err}");
    let s: DetectSettings = toml::from_str("[keywords]\nextra_negative = ['']").unwrap();
    let err = Detector::new(&s, HashKey::from_bytes([1; 16]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("detect.keywords.negative"), "{err}");
    let s: DetectSettings = toml::from_str("[[custom]]\nname = 'x'\nregex = '[0-9'").unwrap();
    let err = Detector::new(&s, HashKey::from_bytes([1; 16]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("detect.custom[0]") && err.contains("regex"),
        "{err}"
    );
}

#[test]
fn debug_forms_hold_no_text() {
    let s = DetectSettings {
        secret: Some("hemlig-nyckel".into()),
        ..DetectSettings::default()
    };
    assert!(!format!("{s:?}").contains("hemlig"));
    let d = detector();
    let f = d.scan("pnr 19861208-2399", &Context::default());
    let dbg = format!("{f:?} {d:?}");
    assert!(!dbg.contains("2399") && !dbg.contains("861208"));
}

#[test]
fn empty_and_digit_free_texts() {
    assert!(scan("").is_empty());
    assert!(scan("Hej! Mötet börjar snart 👍").is_empty());
    assert!(scan("1").is_empty());
    assert!(scan("ö1").is_empty());
}

#[test]
fn detector_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Detector>();
}

/// The overlap rule as first written (each finding against every kept one): the linear
/// version must keep exactly what it kept.
fn resolve_overlaps_naive(out: &mut Vec<Finding>) {
    out.sort_by_key(|f| f.span.start);
    let mut kept: Vec<Finding> = Vec::new();
    for f in out.drain(..) {
        if f.is_weak_signal() {
            kept.push(f);
            continue;
        }
        let clash = kept.iter().rposition(|k| {
            !k.is_weak_signal() && k.span.start < f.span.end && f.span.start < k.span.end
        });
        match clash {
            Some(i) if kept[i].confidence < f.confidence => kept[i] = f,
            Some(_) => {}
            None => kept.push(f),
        }
    }
    *out = kept;
}

#[test]
fn overlaps_are_resolved_as_before_in_linear_time() {
    let mut seed = 7u64;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for _ in 0..500 {
        let mut findings = Vec::new();
        for _ in 0..next(40) {
            let start = next(200) as usize;
            let len = 1 + next(15) as usize;
            let kind = match next(4) {
                0 => FindingKind::Icd10,
                1 => FindingKind::Samordningsnummer,
                _ => FindingKind::Personnummer,
            };
            findings.push(Finding {
                kind,
                confidence: [Low, Medium, High][next(3) as usize],
                redacted: String::new(),
                span: start..start + len,
                hash: format!("{}", findings.len()),
                lift: None,
            });
        }
        let mut a = findings.clone();
        let mut b = findings;
        resolve_overlaps(&mut a);
        resolve_overlaps_naive(&mut b);
        let key = |v: &[Finding]| v.iter().map(|f| f.hash.clone()).collect::<Vec<_>>();
        assert_eq!(key(&a), key(&b));
    }
}

/// A detector with every `[detect.formats]` switch off.
fn formats_off() -> Detector {
    let mut s = DetectSettings::default();
    let f = &mut s.formats;
    (
        f.personnummer,
        f.samordningsnummer,
        f.space_separator,
        f.interim,
    ) = (false, false, false, false);
    (f.reservnummer, f.stockholm, f.vgr, f.carelink) = (false, false, false, false);
    (f.varmland, f.orebro, f.unknown_reserve) = (false, false, false);
    (f.icd10, f.clinical_terms) = (false, false);
    Detector::new(&s, HashKey::from_bytes([7; 32])).unwrap()
}

#[test]
fn identifiers_are_redacted_in_any_form_whatever_the_formats() {
    let off = formats_off();
    assert!(off.scan("pnr 861208-2399", &Context::default()).is_empty());
    for d in [detector(), off] {
        for (text, want) in [
            ("vmr.198612082399", "vmr.************"),
            ("x8612082399y", "x**********y"),
            ("+468612082399", "+46**********"),
            ("tel 861208 2399", "tel ****** ****"),
            ("order:19861208-2399-1", "order:********-****-1"),
            ("Anna 701063-2391", "Anna ******-****"),
            ("res 000101-T220", "res ******-****"),
            ("sip:+19861208-2399@x", "sip:+********-****@x"),
        ] {
            assert_eq!(d.redact(text).as_deref(), Some(want), "{want}");
        }
        for text in [
            "anna@region.se",
            "vmr.vardplanering",
            "12345678901",
            "861208-2398",
        ] {
            assert_eq!(d.redact(text), None, "{}", redact(text));
        }
    }
}

#[test]
fn keyed_identifiers_keep_ids_that_differ_in_the_number_apart() {
    let d = detector();
    let a = d.redact_id("vmr.198612082399").unwrap();
    let b = d.redact_id("vmr.199308042382").unwrap();
    assert!(a.starts_with("vmr.************~") && a.len() == "vmr.************~".len() + 8);
    assert_ne!(a, b);
    // Stable under one key, different under another.
    assert_eq!(d.redact_id("vmr.198612082399").unwrap(), a);
    let other = Detector::new(&DetectSettings::default(), HashKey::from_bytes([8; 32])).unwrap();
    assert_ne!(other.redact_id("vmr.198612082399").unwrap(), a);
    // The keyed form holds no number to redact again.
    assert_eq!(d.redact_id(&a), None);
    assert_eq!(d.redact_id("c0ffee00-0000-4000-8000-000000000001"), None);
}

#[test]
fn identifier_findings_are_scored_like_any_text() {
    let d = detector();
    let kinds = |t: &str| -> Vec<(String, Confidence)> {
        d.scan_identifier(t)
            .into_iter()
            .map(|f| (f.kind.to_string(), f.confidence))
            .collect()
    };
    assert_eq!(kinds("vmr.198612082399"), [("personnummer".into(), Medium)]);
    assert_eq!(
        kinds("Bo 701063-2391"),
        [("samordningsnummer".into(), Medium)]
    );
    assert_eq!(
        kinds("Pat 701063-2391"),
        [("samordningsnummer".into(), High)]
    );
    // A bare ten-digit meeting id that happens to pass: low, below the usual threshold.
    assert_eq!(kinds("8612082399"), [("personnummer".into(), Low)]);
    assert!(kinds("Anna Berg F32.1").is_empty());
    assert!(kinds("anna@region.se").is_empty());
}

// Issue 14: the detector on real chat.

/// `nine` digits (`YYMMDD` + three) completed with their Luhn check digit; with the century
/// `cc` in front when given. Built at test time, shown only redacted.
fn with_check(cc: &str, nine: &str) -> String {
    (0..10u8)
        .map(|c| format!("{nine}{c}"))
        .find(|t| personnummer::luhn_ok(&t.bytes().map(|b| b - b'0').collect::<Vec<_>>()))
        .map(|t| format!("{cc}{t}"))
        .unwrap()
}

/// Like [`conf`], for a text written at `time` (`2024-11-20T10:00:00Z`).
fn conf_at(text: &str, time: &str) -> Option<Confidence> {
    let ctx = Context {
        related: &[],
        time: Some(time.parse().unwrap()),
    };
    let found: Vec<_> = detector()
        .scan(text, &ctx)
        .into_iter()
        .filter(|f| !f.is_weak_signal())
        .collect();
    assert!(
        found.len() <= 1,
        "more than one finding in {}",
        redact(text)
    );
    found.first().map(|f| f.confidence)
}

#[test]
fn negative_keywords_are_the_word_or_its_inflections() {
    // Words that merely begin like a negative keyword do not lower a number.
    assert_eq!(conf("Kontoret har 19861208-2399"), Some(Medium));
    assert_eq!(conf("Konferensrummet, 19861208-2399"), Some(Medium));
    assert_eq!(conf("Ordentligt: 19861208-2399"), Some(Medium));
    assert_eq!(conf("Incidentally 19861208-2399"), Some(Medium));
    assert_eq!(conf("Referral for 19861208-2399"), Some(High));
    assert_eq!(
        conf("Please tell me about patient 8612082399"),
        Some(Medium)
    );
    // The keyword itself, its inflections and its number compounds still do.
    for t in [
        "Kontonummer 19861208-2399",
        "konto 19861208-2399",
        "Konferens-id 19861208-2399",
        "konferensnummer 19861208-2399",
        "Ordern 19861208-2399",
        "orders 19861208-2399",
        "ordernr: 19861208-2399",
        "Fakturanumret 19861208-2399",
        "bokningsnummer 19861208-2399",
        "Ref. 19861208-2399",
        "referensnummer 19861208-2399",
        "invoice 19861208-2399",
    ] {
        assert_eq!(conf(t), Some(Low), "{}", redact(t));
    }
    for t in [
        "Kontonummer 8612082399",
        "ringde från 8612082399",
        "telefonnummer 8612082399",
        "mobilen 8612082399",
        "Meeting ID: 861208 2399",
        "phone 8612082399",
    ] {
        assert_eq!(conf(t), None, "{}", redact(t));
    }
}

#[test]
fn numbers_across_lines_with_spaced_dashes_or_glued_to_a_keyword() {
    assert_eq!(conf("Pat\n19861208-\n2399"), Some(High));
    assert_eq!(conf("personnummer 19861208\r\n-2399"), Some(High));
    assert_eq!(conf("861208 - 2399 behöver ny tid"), Some(Medium));
    assert_eq!(conf("pnr 861208 - 2399"), Some(High));
    assert_eq!(conf("pnr19861208-2399"), Some(High));
    assert_eq!(conf("PNR8612082399"), Some(Medium));
    assert_eq!(conf("Personnummer198612082399 tack"), Some(High));
    // Redaction covers every one of these forms.
    let d = detector();
    for t in ["x 19861208 -\n2399", "pnr19861208-2399", "861208 - 2399"] {
        let r = d.redact(t).unwrap();
        assert!(!r.contains("2399"), "{}", redact(t));
    }
}

#[test]
fn timestamps_and_case_numbers_near_the_texts_date() {
    let at = "2024-11-20T10:00:00Z";
    // A date two weeks back and a time of day: a recording or an export, not a person.
    let stamp = with_check("20", "241105143");
    assert_eq!(
        conf_at(&format!("Inspelning_{stamp}.mp4 ligger i mappen"), at),
        Some(Low)
    );
    assert_eq!(
        conf_at(&format!("Filen {stamp}.docx, patient"), at),
        Some(Low)
    );
    assert_eq!(
        conf_at(&format!("Exporten {} klar", &stamp[2..]), at),
        Some(Low)
    );
    // An identity keyword says what it is, whatever the date suggests.
    assert_eq!(conf_at(&format!("pnr {stamp}"), at), Some(High));
    assert_eq!(conf_at(&format!("pnr {}", &stamp[2..]), at), Some(Medium));
    // A case or deviation-report number that starts with a recent date.
    let case = with_check("20", "240605007");
    assert_eq!(conf_at(&format!("Kolla {case} i Lifecare"), at), Some(Low));
    assert_eq!(conf_at(&format!("Ärendet {case} är stängt"), at), None);
    assert_eq!(conf_at(&format!("Avvikelsenummer {case}"), at), None);
    // Written two years later, the same number reads as a date of birth again.
    assert_eq!(
        conf_at(&format!("Kolla {case} i Lifecare"), "2026-11-20T10:00:00Z"),
        Some(Medium)
    );
    // After the text's own date: nobody is born after the chat about them.
    let later = with_check("20", "241125001");
    assert_eq!(conf_at(&format!("Pat {later}"), at), None);
    // A child born in the spring, with a word for the child: still found.
    let baby = with_check("20", "240512238");
    assert_eq!(
        conf_at(&format!("Barnet {baby} kommer på BVC"), at),
        Some(Medium)
    );
}

#[test]
fn masked_numbers_and_meeting_links_are_no_numbers() {
    assert_eq!(conf("Pat 19861208-XXXX har fått tid"), None);
    assert_eq!(conf("patient 19861208-XX99"), None);
    assert_eq!(
        conf("Länk till patientmötet: https://zoom.us/j/8612082399?pwd=x"),
        None
    );
    assert_eq!(conf("Mötesnummer 861208 2399, patient"), None);
    assert_eq!(conf("Conference ID: 8612082399 (patient meeting)"), None);
}

#[test]
fn english_and_family_words_are_keywords() {
    for t in [
        "DOB 8612082399",
        "date of birth: 8612082399",
        "MRN 8612082399",
        "chart 8612082399",
        "the referral for 8612082399",
        "medical record 8612082399",
        "Barnet 8612082399 har feber",
        "mamman 8612082399 kommer i morgon",
        "modern, 8612082399",
        "vårdnadshavare 8612082399",
        "brukaren 8612082399",
        "vårdtagaren 8612082399",
        "sjukintyg för 8612082399",
        "SIP för 8612082399",
        "the child 8612082399",
        "the mother 8612082399",
        "the guardian 8612082399",
        "care recipient 8612082399",
        "sick note for 8612082399",
    ] {
        assert_eq!(conf(t), Some(Medium), "{}", redact(t));
    }
    assert_eq!(conf("DOB 19861208-2399"), Some(High));
    // Not a whole word: no keyword.
    assert_eq!(conf("Barnmorskan 8612082399"), Some(Low));
}

#[test]
fn any_text_time_is_safe() {
    for time in [
        jiff::Timestamp::MIN,
        jiff::Timestamp::MAX,
        jiff::Timestamp::UNIX_EPOCH,
        "0001-01-01T00:00:00Z".parse().unwrap(),
    ] {
        let ctx = Context {
            related: &[],
            time: Some(time),
        };
        let stamp = with_check("20", "240605143");
        for t in [
            "pnr 19861208-2399".to_string(),
            format!("Inspelning_{stamp}.mp4"),
            format!("{}-{}", &stamp[2..8], &stamp[8..]),
        ] {
            assert!(detector().scan(&t, &ctx).len() <= 1, "{}", redact(&t));
        }
    }
}
