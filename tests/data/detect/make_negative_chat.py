#!/usr/bin/env python3
"""Writes negative-chat.txt: ordinary Swedish work chat in health and social care, with phone
numbers, dates, times, amounts, postal codes, case, order, OCR and organisation numbers, meeting
ids and versions, but no identity numbers. The detector must report nothing at medium or above
on any line. The first part is hand-written (HAND below); the rest is generated from templates
with a fixed seed, so the file is reproducible:

    python3 tests/data/detect/make_negative_chat.py > tests/data/detect/negative-chat.txt
"""
import random

HAND = """\
Hej! Mötet börjar 14:15, länk i kalendern.
Kan någon ta över rond på avdelning 4 i eftermiddag?
Ring mig på 070-123 45 67 om det strular.
Min mobil: 0701234567
Växeln nås på 08-123 456 78, knappval 2.
Ring +46 70 123 45 67 efter kl 16.
Numret till jouren är 010-241 00 00.
Tack för idag! 👍
Lunch 11:30 i matsalen?
Jag är sen, kommer 09.10.
APT flyttas till 2024-06-11 kl 13.30.
Semesterlistan ska vara klar 15/4.
Vi ses vecka 23, tisdag 4 juni.
Nästa möte 2024-09-03 09:00-10:30 i stora konferensrummet.
Fakturan med OCR 4670301592 är betald.
Fakturanr 2024-0042, belopp 12 450 kr inkl moms.
Kostnad ca 3 200 kr per deltagare, totalt 45 000 SEK.
Beställningen gick på 1 234,50 kr.
Ordernr 4500123456 har levererats.
Artikelnr 3908295987, antal 12.
Ref 5003764205 gäller leveransen.
Ärendenr 2024-1187 är stängt.
Dnr 2024/01234 gäller upphandlingen.
Kundnr 100234, avtal löper ut 2025-12-31.
Org.nr 556036-0793 står på avtalet.
Leverantörens organisationsnummer är 802005-1952.
Bankgiro 5050-1055, märk betalningen med fakturanummer.
Plusgiro 90 20 01-8.
Mötes-ID: 345 678 901 23, lösenord finns i kallelsen.
Konferens-ID 8812345#, PIN 7200.
Meeting ID 987 6543 2109
Postadress: Box 123, 413 45 Göteborg.
Besöksadress Sveavägen 12, 111 57 Stockholm.
Version 2024.11.5 är ute.
Starta om klienten efter uppdatering 3.2.1.
IP-adressen är 10.12.34.56, port 8443.
Rum 4:12 är bokat hela dagen.
Vi har 37 platser och 4 vakanta.
Temperaturen i läkemedelsrummet var 21,5 grader.
Beläggningen är 96 % i dag.
Skicka tidrapporten senast 2024-05-31.
Projektet har budget 1,2 mkr för 2025.
Bokningsnr 202406110001 bekräftat.
Ticket 2024061100017 är löst.
Ärende INC0012345 är eskalerat till IT.
SR-2024-0042 väntar på godkännande.
Telefonmöte kl 10, ring in på 08-505 505 50.
Swish 123 456 78 90 för fikapengarna.
Sms:a 0731234567 om du blir sjuk.
Kod till porten 4512.
Wifi-lösenordet byts 1/7.
Inventarienummer 20230045 på datorn.
Serienummer 5CG1234ABC på skrivaren.
Larmet gick 03:12 och 03:47 i natt.
Passet är 07-16, sen 13-21.
Skiftet 21.00-07.00 saknar en undersköterska.
Vi behöver 2 extra på helgen 8-9 juni.
Personalmöte om nya journalsystemet på torsdag.
Kursen i journalföring är 12-13 september.
Utbildning om patientsäkerhet 2024-10-02, 08:30-12:00.
Patientnämnden har möte 14/11.
Remissrutinen uppdateras till version 3.
Nya blanketter för samtycke finns på intranätet.
Informationen om personnummer i chatten: skriv aldrig ut dem.
Glöm inte att logga ut från journalen när ni går.
Vårdplaneringen flyttas till 10:45.
Brukarundersökningen visar 87 % nöjda.
Anhörigträffen är 19 mars kl 18.
Hemtjänsten har nytt nummer: 0771-123 456.
Ring 112 vid akut läge, annars 1177.
Samtal från 020-123 456 är från Försäkringskassan.
Faxnumret 08-123 45 99 används inte längre.
Nummer till receptionen: 031-342 10 00.
Fråga IT på 010-473 00 00 eller via portalen.
Konto 1234-5 678 901 2 för ersättningar.
Clearingnummer 8327-9, konto 912 345 678-9.
IBAN SE45 5000 0000 0583 9825 7466.
Vi har 2 500 kr kvar i friskvårdsbidrag.
Priset höjs 3,5 % från 1 januari.
Leverans vecka 36, kolli 3 av 5.
Spårningsnummer 00370731234567890123.
Paketet kommer mellan 09 och 12.
Avgång 15:42 från centralen, spår 3.
Tåget är 20 min sent.
Jag har läkartid 14.00, går 13.30.
Hämtar på förskolan 16.15.
Vi köper in 24 nya skärmar à 2 199 kr.
Rapporten ligger i mappen 2024/Q2.
Filen heter protokoll_2024-06-11_v2.docx.
Se bilaga 3, sida 12-14.
Protokollet från 2024-05-21 §14 är justerat.
Beslut enligt punkt 4.2 i delegationsordningen.
Lag (2022:1697) gäller från 1 juli.
SFS 2008:355 är patientdatalagen.
HSLF-FS 2016:40 om journalföring.
Vi pratar om kap 3 § 7 på nästa träff.
Prognosen pekar på 1 050 besök i maj.
Väntetiden är 45 min på akuten just nu.
Ambulansen har ETA 14:52.
Sal 3 är städad, sal 4 klar 11.20.
Sängplats 12B är ledig från i morgon.
Labbet stänger 16:30 på fredag.
Kylskåpet visar 4,2 °C.
Order 7812045593 skickad till leverantören.
OCR-nummer 5506230812 på inbetalningskortet.
Referensnummer 9001011234 i ärendet.
Beställningsnummer 840312-4421 gäller förbrukningsmaterial.
Telefon 0812345678 går till expeditionen.
Ring 0701012395 nu.
Mobilnr 0730101234.
Faktura 850514-0123 förfaller 30/6.
"""

PHONES = ["070-123 45 67", "0701234567", "+46 70 123 45 67", "+46701234567", "08-123 456 78",
          "08-12345678", "031-123 45 67", "0046701234567", "070 123 45 67", "010-123 45 67",
          "0771-123 456", "073-987 65 43", "0739876543", "+46 8 123 456 78", "0046 31 123 45 67",
          "076-555 12 34", "0765551234", "072-123 45 67", "0721234567", "08-505 500 00"]
TIMES = ["13:30", "13.30", "kl 9", "09:00-10:30", "14.15", "8.00", "16:45", "07:00", "kl. 10.30", "11-12"]
DATES = ["2024-06-11", "11/6", "11 juni", "2024-06-11 13:30", "11.06.2024", "v. 23", "den 3:e",
         "2025-01-07", "1/7", "30 april", "2024-12-24", "20240611", "2024/06/11"]
AMOUNTS = ["12 450 kr", "1 234,50 kr", "3200:-", "45 000 SEK", "99,90 kr", "1,2 mkr", "250 kr/tim",
           "18 900 kr exkl. moms", "5 %", "2 500 kr"]
POSTAL = ["413 45 Göteborg", "111 57 Stockholm", "702 81 Örebro", "65185 Karlstad", "22100 Lund"]

NEG_LABELS = ["ordernr", "Order", "OCR", "Faktura", "Fakturanr", "Artikelnr", "Ref", "Referens",
              "Ärendenr", "Ärende", "Kundnr", "Bokningsnr", "Ticket", "Mobil", "Tel", "Telefon",
              "Konto", "Bankgiro", "Dnr", "Serienr", "Beställning"]

TEMPLATES = [
    "Ring mig på {phone} efter {time}.",
    "Min mobil är {phone}, ring om det brådskar.",
    "Tel {phone}, fråga efter samordnaren.",
    "Växeln {phone} är stängd {date}.",
    "Mötet {date} börjar {time}, länk i kalendern.",
    "Flyttar APT till {date} kl {time}.",
    "Kostnad {amount}, faktura skickas {date}.",
    "Leverans till {postal} senast {date}.",
    "{label} {num10} gäller beställningen.",
    "{label}: {num10}, belopp {amount}.",
    "Se {label} {num12} i systemet.",
    "{label} {dashed} är registrerat {date}.",
    "Har du kollat {label} {num10}?",
    "Pass {time} till {time}, vi är {small} på plats.",
    "Vi behöver {small} extra stolar till {date}.",
    "Nya numret till expeditionen är {phone}.",
    "Skicka sms till {phone} om du blir sjuk {date}.",
    "Kallelse: {date} {time}, Mötes-ID {mid}.",
    "Konferens-ID {mid}, PIN {pin}.",
    "Priset är {amount} per licens, {small} licenser.",
    "Version {ver} installeras {date} {time}.",
    "Rum {small}:{small} är bokat {date}.",
]


def luhn_ok(digits):
    s = 0
    for i, c in enumerate(reversed(digits)):
        v = int(c) * (2 if i % 2 else 1)
        s += v - 9 if v > 9 else v
    return s % 10 == 0


HARD = [
    "Ring mig på {mobile}, jag sitter i möte till {time}.",
    "Min mobil: {mobile}",
    "Sms:a {mobile} om du blir sen.",
    "Telefon {mobile} går direkt till mig.",
    "{label} {valid10} gäller beställningen.",
    "Fakturan med OCR {valid10} är betald.",
    "Artikelnr {valid10}, antal {small}.",
    "Ref {valid10} gäller leveransen.",
    "Ordernr {valid10} skickades {date}.",
    "Kundnr {valid10}, avtal förnyas {date}.",
]


def days_in(y, m):
    if m == 2:
        return 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28
    return 30 if m in (4, 6, 9, 11) else 31


def valid10(rnd, yy=None):
    """A ten-digit number that passes the date and Luhn checks: the realistic false positive."""
    while True:
        y = rnd.randint(0, 99) if yy is None else yy
        m = rnd.randint(1, 12)
        d = rnd.randint(1, 31)
        if d > days_in(2000 + y, m) and d > days_in(1900 + y, m):
            continue
        body = f"{y:02d}{m:02d}{d:02d}{rnd.randint(1, 999):03d}"
        for c in "0123456789":
            if luhn_ok(body + c):
                return body + c


def main():
    rnd = random.Random(20240611)
    out = HAND.strip("\n").split("\n")
    while len(out) < 180:
        t = rnd.choice(HARD)
        mobile = valid10(rnd, yy=7)
        out.append(t.format(mobile=rnd.choice([mobile, mobile[:3] + "-" + mobile[3:]]),
                            valid10=valid10(rnd), label=rnd.choice(NEG_LABELS),
                            time=rnd.choice(TIMES), date=rnd.choice(DATES),
                            small=rnd.randint(1, 40)))
    while len(out) < 460:
        t = rnd.choice(TEMPLATES)
        line = t.format(
            phone=rnd.choice(PHONES),
            time=rnd.choice(TIMES),
            date=rnd.choice(DATES),
            amount=rnd.choice(AMOUNTS),
            postal=rnd.choice(POSTAL),
            label=rnd.choice(NEG_LABELS),
            num10="".join(rnd.choice("0123456789") for _ in range(10)),
            num12="".join(rnd.choice("0123456789") for _ in range(12)),
            dashed="".join(rnd.choice("0123456789") for _ in range(6)) + "-" + "".join(rnd.choice("0123456789") for _ in range(4)),
            small=rnd.randint(1, 40),
            mid=" ".join(str(rnd.randint(100, 999)) for _ in range(3)),
            pin=rnd.randint(1000, 9999),
            ver=f"{rnd.randint(1, 30)}.{rnd.randint(0, 12)}.{rnd.randint(0, 9)}",
        )
        out.append(line)
    print("\n".join(out))


if __name__ == "__main__":
    main()
