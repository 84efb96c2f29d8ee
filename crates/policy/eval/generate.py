#!/usr/bin/env python3
"""Generate the labeled synthetic evaluation corpus for the carepost DLP scanner.

Python 3 standard library only, fixed seed: running it again gives the same file.
Every person, number and address is invented; identifiers are generated to pass (or,
for near-misses, to look like) the real validation rules. ICD-10 codes, drug names and
diagnosis terms are sampled from the lists in ../data/, so regenerate those first.

Writes eval/corpus.jsonl, one message a line:
  {"id", "category", "text", "contains_phi", "spans": [{"type", "start", "end"}]}
start/end count code points of text, end excluded. Also writes eval/patients.txt, the
organization's patient list used to build the name index (only some corpus patients are
in it, as in real life where mail reaches people not yet in the contact list).

Usage: python3 crates/policy/eval/generate.py [count]
"""

import json
import pathlib
import random
import sys

SEED = 20261203
HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parent / "data"

FIRST = ["Maria", "James", "Aisha", "Wei", "Olga", "Carlos", "Priya", "John", "Fatima", "Liam",
         "Sofia", "Noah", "Mei", "Ahmed", "Grace", "Diego", "Hannah", "Yusuf", "Chloe", "Ivan",
         "José", "Zoë", "Thanh", "Kwame", "Ingrid", "Rafael", "Amara", "Tomasz", "Leila", "Owen",
         "Beatriz", "Dmitri", "Keiko", "Samuel", "Nadia", "Elijah", "Rosa", "Malik", "Anya", "Hugo"]
LAST = ["Lopez", "Johnson", "Okafor", "Zhang", "Petrova", "Mendoza", "Raman", "Smith", "Haddad",
        "Murphy", "Rossi", "Williams", "Chen", "Hassan", "Kim", "Alvarez", "Berg", "Demir",
        "Dubois", "Novak", "Núñez", "Brontë", "Nguyen", "Mensah", "Larsen", "Costa", "Eze",
        "Kowalski", "Farah", "Price", "Silva", "Orlov", "Tanaka", "Adeyemi", "Karimi", "Brooks",
        "Reyes", "Jackson", "Volkova", "Martin"]
DOCTORS = ["Dr. Anne Ray", "Dr. Samuel Ortiz", "Dr. Lena Fischer", "Dr. Kofi Boateng",
           "Dr. Rachel Stein", "Dr. Arjun Mehta", "Dr. Paula Greene", "Dr. Marcus Lee"]
STREETS = ["Oak", "Maple", "Washington", "Cedar", "Lakeview", "Hillcrest", "Elm", "Pine",
           "Sunset", "Franklin", "Highland", "Riverside", "Jefferson", "Park", "Mill", "Church"]
SUFFIXES = ["Street", "St", "Avenue", "Ave", "Road", "Rd", "Drive", "Dr", "Lane", "Blvd", "Court",
            "Way", "Place"]
CITIES = [("Springfield", "IL"), ("Columbus", "OH"), ("Austin", "TX"), ("Portland", "OR"),
          ("Worcester", "MA"), ("Tucson", "AZ"), ("Albany", "NY"), ("Raleigh", "NC"),
          ("Boise", "ID"), ("Madison", "WI"), ("Richmond", "VA"), ("Denver", "CO")]
ORGS = ["Riverside Family Health", "Lakeview Medical Group", "Northside Clinic",
        "Cedar Valley Health", "Harbor Pediatrics", "Summit Cardiology Associates"]
COMMON_DRUGS = ["atorvastatin", "metformin", "lisinopril", "amlodipine", "levothyroxine",
                "omeprazole", "sertraline", "albuterol", "gabapentin", "losartan", "prednisone",
                "amoxicillin", "warfarin", "insulin", "ibuprofen", "hydrochlorothiazide",
                "montelukast", "escitalopram", "furosemide", "tramadol", "apixaban",
                "rosuvastatin", "pantoprazole", "trazodone", "duloxetine", "semaglutide"]
TESTS = ["A1C", "lipid panel", "thyroid panel", "CBC", "metabolic panel", "urinalysis",
         "PSA test", "vitamin D level", "mammogram", "colonoscopy", "MRI", "ultrasound"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def load_list(name):
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [l.strip() for l in lines if l.strip() and not l.startswith("#")]


def load_icd():
    codes = []
    for line in load_list("icd10cm.txt"):
        cat, *suffixes = line.split()
        for s in suffixes:
            if s != "-" and len(s) <= 2:
                codes.append(cat + "." + s)
    return codes


class Doc:
    """Text built piece by piece, with labeled spans in code points."""

    def __init__(self):
        self.parts, self.spans, self.length = [], [], 0

    def add(self, text, label=None):
        if label:
            self.spans.append({"type": label, "start": self.length, "end": self.length + len(text)})
        self.parts.append(text)
        self.length += len(text)
        return self

    def text(self):
        return "".join(self.parts)


class Gen:
    def __init__(self, rng):
        self.r = rng
        self.icd = load_icd()
        self.drugs = load_list("drugs.txt")
        self.dx = [d for d in load_list("diagnosis.txt") if len(d) > 3]

    def pick(self, seq):
        return self.r.choice(seq)

    # Identifiers -----------------------------------------------------------------------
    def name(self):
        return self.pick(FIRST), self.pick(LAST)

    def ssn(self, dashed=True):
        area = self.r.choice([a for a in range(1, 900) if a != 666])
        g, s = self.r.randint(1, 99), self.r.randint(1, 9999)
        return f"{area:03d}-{g:02d}-{s:04d}" if dashed else f"{area:03d}{g:02d}{s:04d}"

    def luhn_digit(self, body):
        total = 0
        for i, ch in enumerate(reversed(body)):
            d = int(ch)
            if i % 2 == 0:
                d *= 2
                d = d - 9 if d > 9 else d
            total += d
        return str((10 - total % 10) % 10)

    def card(self):
        prefix, length = self.pick([("4", 16), ("51", 16), ("55", 16), ("37", 15), ("6011", 16),
                                    ("2221", 16), ("34", 15)])
        body = prefix + "".join(str(self.r.randint(0, 9)) for _ in range(length - len(prefix) - 1))
        num = body + self.luhn_digit(body)
        style = self.r.random()
        if length == 15:
            return f"{num[:4]} {num[4:10]} {num[10:]}" if style < 0.5 else num
        if style < 0.4:
            return " ".join(num[i:i + 4] for i in range(0, 16, 4))
        if style < 0.7:
            return "-".join(num[i:i + 4] for i in range(0, 16, 4))
        return num

    def npi(self):
        body = self.pick("12") + "".join(str(self.r.randint(0, 9)) for _ in range(8))
        return body + self.luhn_digit("80840" + body)

    def dea(self):
        letters = self.pick("ABFGM") + self.pick("ABCDEFGHJKLMNPRSTW")
        d = [self.r.randint(0, 9) for _ in range(6)]
        check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
        return letters + "".join(map(str, d)) + str(check)

    def mbi(self):
        letters = "ACDEFGHJKMNPQRTUVWXY"
        alnum = letters + "0123456789"
        c = [str(self.r.randint(1, 9)), self.pick(letters), self.pick(alnum), str(self.r.randint(0, 9)),
             self.pick(letters), self.pick(alnum), str(self.r.randint(0, 9)), self.pick(letters),
             self.pick(letters), str(self.r.randint(0, 9)), str(self.r.randint(0, 9))]
        s = "".join(c)
        return f"{s[:4]}-{s[4:7]}-{s[7:]}" if self.r.random() < 0.3 else s

    def phone(self):
        a, e, n = self.r.randint(201, 989), self.r.randint(200, 999), self.r.randint(0, 9999)
        if str(a)[1:] == "11":
            a += 1
        return self.pick([f"({a}) {e}-{n:04d}", f"{a}-{e}-{n:04d}", f"{a}.{e}.{n:04d}",
                          f"+1 {a} {e} {n:04d}"])

    def date(self, y0, y1):
        y, m, d = self.r.randint(y0, y1), self.r.randint(1, 12), self.r.randint(1, 28)
        return self.pick([f"{m:02d}/{d:02d}/{y}", f"{m}/{d}/{y}", f"{y}-{m:02d}-{d:02d}",
                          f"{MONTHS[m - 1]} {d}, {y}", f"{d} {MONTHS[m - 1][:3]} {y}",
                          f"{MONTHS[m - 1][:3]}. {d}, {y}"])

    def mrn(self):
        return self.pick([f"{self.r.randint(0, 99999999):08d}", f"A{self.r.randint(1000000, 9999999)}",
                          f"MR{self.r.randint(100000, 999999)}", f"{self.r.randint(1000000, 9999999)}"])

    def member(self):
        return self.pick([f"XJH{self.r.randint(100000000, 999999999)}",
                          f"W{self.r.randint(100000000, 999999999)}",
                          f"{self.r.randint(100000000000, 999999999999)}",
                          f"BCX{self.r.randint(10000000, 99999999)}"])

    def street(self):
        return f"{self.r.randint(2, 9899)} {self.pick(STREETS)} {self.pick(SUFFIXES)}"

    def drug(self):
        d = self.pick(COMMON_DRUGS) if self.r.random() < 0.75 else self.pick(self.drugs)
        return d.capitalize() if self.r.random() < 0.5 else d

    def diagnosis(self):
        return self.pick(self.dx)


def add_name(doc, g, first, last):
    doc.add(f"{first} {last}", "PERSON")


def clinical_note(g):
    first, last = g.name()
    doc = Doc()
    doc.add(g.pick(["Patient: ", "Patient Name: ", "Pt: "]))
    add_name(doc, g, first, last)
    doc.add(g.pick(["\nDOB: ", "   DOB ", "\nDate of birth: "])).add(g.date(1930, 2015), "DOB")
    if g.r.random() < 0.8:
        doc.add(g.pick(["\nMRN: ", "  MRN ", "\nMedical Record #: "])).add(g.mrn(), "MRN")
    if g.r.random() < 0.5:
        doc.add(g.pick(["\nAdmitted: ", "\nAdmission date: ", "\nDate of service: "]))
        doc.add(g.date(2023, 2025), "DATE")
    doc.add("\n\n" + g.pick(["Assessment: ", "Impression: ", "History: "]))
    doc.add(g.pick(["Patient presents with worsening ", "Follow-up for ", "Known history of ",
                    "Evaluated today for "]))
    doc.add(g.diagnosis(), "DIAGNOSIS")
    if g.r.random() < 0.7:
        doc.add(g.pick([" (ICD-10 ", ". Dx code ", ". Diagnosis code: "]))
        doc.add(g.pick(g.icd), "ICD10")
        doc.add(g.pick([").", ".", ""]))
    doc.add(g.pick([" Continue ", " Started ", " Increase ", " Refilled "]))
    doc.add(g.drug(), "DRUG")
    doc.add(g.pick([" 10 mg daily.", " 500 mg twice daily.", " as directed.", " 20 mg at bedtime."]))
    if g.r.random() < 0.4:
        doc.add(g.pick([" Discharged ", " Discharge date: "])).add(g.date(2023, 2025), "DATE").add(".")
    if g.r.random() < 0.4:
        doc.add("\nHome address: ").add(g.street(), "ADDRESS")
        city, st = g.pick(CITIES)
        doc.add(f", {city}, ").add(f"{st} {g.r.randint(10000, 99999)}", "ADDRESS")
    if g.r.random() < 0.4:
        doc.add(g.pick(["\nPatient cell: ", "\nHome phone: ", "\nContact number: "]))
        doc.add(g.phone(), "PHONE")
    if g.r.random() < 0.3:
        doc.add("\nOrdering provider: " + g.pick(DOCTORS) + ", NPI ").add(g.npi(), "NPI")
    if g.r.random() < 0.2:
        doc.add(" DEA ").add(g.dea(), "DEA")
    if g.r.random() < 0.2:
        doc.add("\nTelehealth session connected from ").add(
            f"{g.r.randint(11, 223)}.{g.r.randint(0, 255)}.{g.r.randint(0, 255)}.{g.r.randint(1, 254)}",
            "IP_ADDRESS")
    return doc, "clinical_note", True


def appointment(g):
    first, last = g.name()
    org = g.pick(ORGS)
    doc = Doc().add(g.pick(["Dear ", "Hello ", "Hi "]))
    add_name(doc, g, first, last)
    doc.add(",\n\n" + g.pick(["This is a reminder of your appointment with ",
                               "Your upcoming visit with ", "We look forward to seeing you with "]))
    doc.add(g.pick(DOCTORS) + g.pick([" on ", " scheduled for "]))
    doc.add(g.date(2025, 2026), "DATE")
    doc.add(g.pick([" at 9:30 AM", " at 2:15 PM", " at 11:00 AM"]) + f" at {org}.")
    if g.r.random() < 0.5:
        doc.add(g.pick([" The visit is for your ", " Please bring your list of medications for your "]))
        doc.add(g.diagnosis(), "DIAGNOSIS").add(" follow-up.")
    if g.r.random() < 0.3:
        doc.add(" Your member ID on file is ").add(g.member(), "MEMBER_ID").add(".")
    doc.add(g.pick(["\n\nTo reschedule, please call us at ", "\n\nQuestions? Call our office at "]))
    doc.add(g.phone() + ".\n" + org)
    return doc, "appointment_reminder", True


def lab_result(g):
    first, last = g.name()
    doc = Doc().add(g.pick(["Dear ", "Hi "]))
    add_name(doc, g, first, last)
    test = g.pick(TESTS)
    doc.add(",\n\nYour ").add(test, "DIAGNOSIS")
    doc.add(g.pick([" results from ", " from your visit on ", " collected on "]))
    doc.add(g.date(2024, 2025), "DATE")
    doc.add(g.pick([" are now available in the portal.", " came back within normal range.",
                    " show a value that needs follow-up."]))
    if g.r.random() < 0.5:
        doc.add(" Given your history of ").add(g.diagnosis(), "DIAGNOSIS")
        doc.add(", we recommend continuing ").add(g.drug(), "DRUG").add(".")
    if g.r.random() < 0.4:
        link = f"https://portal.{g.pick(['riverside', 'lakeview', 'northside'])}health.org/patients/{g.r.randint(100000, 9999999)}/results"
        doc.add(" View them at ").add(link, "URL").add(" .")
    doc.add("\n\n" + g.pick(DOCTORS))
    return doc, "lab_result", True


def billing(g):
    first, last = g.name()
    doc = Doc().add(g.pick(["Statement for ", "Billing notice: ", "Account holder: "]))
    add_name(doc, g, first, last)
    doc.add("\n")
    kind = g.r.random()
    if kind < 0.35:
        doc.add(g.pick(["SSN on file: ", "Social Security Number: ", "SSN "]))
        doc.add(g.ssn(g.r.random() < 0.7), "SSN")
        doc.add("\n")
    elif kind < 0.65:
        doc.add(g.pick(["Card used: ", "Payment card ", "Charged to card number "]))
        doc.add(g.card(), "CREDIT_CARD").add("\n")
    else:
        doc.add(g.pick(["Medicare number (MBI): ", "MBI: ", "Medicare ID "]))
        doc.add(g.mbi(), "MBI").add("\n")
    doc.add(g.pick(["Services: ", "Charges for: "]))
    doc.add(g.diagnosis(), "DIAGNOSIS")
    doc.add(g.pick([" visit on ", " procedure performed "])).add(g.date(2024, 2025), "DATE")
    doc.add(f"\nBalance due: ${g.r.randint(20, 900)}.{g.r.randint(10, 99)}. Copay applied.")
    if g.r.random() < 0.4:
        doc.add("\nMailing address: ").add(g.street(), "ADDRESS")
    return doc, "billing", True


def insurance(g):
    first, last = g.name()
    doc = Doc().add("Dear ")
    add_name(doc, g, first, last)
    doc.add(",\nWe received prior authorization request for ")
    doc.add(g.drug(), "DRUG")
    doc.add(g.pick([". Member ID: ", ". Subscriber ID ", ". Insurance ID # "])).add(g.member(), "MEMBER_ID")
    if g.r.random() < 0.5:
        doc.add(". Your email on file: ")
        doc.add(f"{first.lower()}.{last.lower()}{g.r.randint(1, 99)}@{g.pick(['gmail.com', 'yahoo.com', 'outlook.com'])}".encode('ascii', 'ignore').decode(), "EMAIL")
    doc.add(".\nClaims department")
    return doc, "insurance", True


def newsletter(g):
    org = g.pick(ORGS)
    doc = Doc().add(g.pick(["Dear Patients,\n\n", "Hello neighbors,\n\n", "Dear Friends,\n\n", ""]))
    doc.add(g.pick(["Flu season is here. ", "This month is awareness month for ",
                    "Our health tip of the month: "]))
    if g.r.random() < 0.8:
        doc.add(g.pick(["About 1 in 10 adults lives with ", "Screening helps catch ",
                        "Learn the warning signs of "]))
        doc.add(g.diagnosis(), "DIAGNOSIS").add(". ")
    if g.r.random() < 0.5:
        doc.add(g.pick(["Ask your pharmacist whether ", "Common medicines such as "]))
        doc.add(g.drug(), "DRUG").add(g.pick([" is right for you. ", " can interact with alcohol. "]))
    doc.add(g.pick(["Our free screening event is on ", "Walk-in vaccine clinic: ", "Join our webinar on "]))
    doc.add(g.date(2025, 2026) + ". ")
    stats = g.r.randint(0, 2)
    if stats == 0:
        doc.add(f"In 2024 our clinics saw {g.r.randint(2000, 40000):,} patients and "
                f"{g.r.randint(10, 90)}% had their ").add("A1C", "DIAGNOSIS").add(" checked. ")
    elif stats == 1:
        doc.add("Statistics are de-identified and aggregated. ")
    doc.add(g.pick(["\nVisit us at ", "\nOur office is located at "]))
    doc.add(g.street())
    city, st = g.pick(CITIES)
    doc.add(f", {city}, {st} {g.r.randint(10000, 99999)}")
    doc.add(g.pick(["\nCall us at ", "\nQuestions? Call "])).add(g.phone())
    doc.add(g.pick(["\nEmail: info@", "\nContact us: appointments@"]) + "clinic.example.org")
    doc.add(f"\nhttps://www.{org.split()[0].lower()}health.org/news")
    if g.r.random() < 0.5:
        doc.add("\n\n" + g.pick(DOCTORS) + ", MD\nNPI: ").add(g.npi(), "NPI")
    return doc, "newsletter", False


def near_miss(g):
    doc = Doc()
    kind = g.r.randint(0, 5)
    if kind == 0:
        doc.add(g.pick(["Your order #", "Order number ", "Confirmation no. "]))
        doc.add(g.ssn()).add(g.pick([" has shipped.", " is being processed."]))
        doc.add(" Tracking: 1Z" + "".join(g.pick("0123456789ABCDEF") for _ in range(16)))
        doc.add(f"\nLot {g.ssn()} expires {g.date(2026, 2028)}.")
    elif kind == 1:
        doc.add("New in our catalog:\n")
        for _ in range(g.r.randint(1, 3)):
            code = g.pick(g.icd) if g.r.random() < 0.5 else f"{g.pick('EJKM')}{g.r.randint(10, 99)}.{g.r.randint(100, 999)}X"
            doc.add(g.pick(["SKU ", "Model ", "Part no. ", "Item "]) + code)
            doc.add(g.pick([" nebulizer kit\n", " glucose meter strips\n", " knee brace, size M\n"]))
    elif kind == 2:
        doc.add(g.pick(["Staff meeting moved to ", "The parking lot will be repaved on ",
                        "Holiday hours begin "]))
        doc.add(g.date(2025, 2026) + ". ")
        doc.add(g.pick(["Please update your calendars.", "Thanks for your patience."]))
        doc.add("\n" + g.pick(DOCTORS) + "\nNPI ").add(g.npi(), "NPI")
        if g.r.random() < 0.5:
            doc.add("  DEA ").add(g.dea(), "DEA")
    elif kind == 3:
        doc.add(f"{g.pick(ORGS)} is moving! Our new office is located at {g.street()}. ")
        doc.add(f"Call us at {g.phone()} or email frontdesk@clinic.example.org. Fax {g.phone()}.")
    elif kind == 4:
        doc.add(f"Invoice {g.r.randint(100000000, 999999999)} for office supplies is attached. ")
        doc.add(f"PO {g.ssn(False)}, reference {g.r.randint(1000000000, 1999999999)}. ")
        doc.add(f"Version 2.{g.r.randint(0, 9)}.{g.r.randint(0, 9)} of the scheduling app ships {g.date(2025, 2026)}.")
    else:
        doc.add("Reminder: ")
        if g.r.random() < 0.3:
            doc.add("COVID-19", "DIAGNOSIS").add(" boosters")
        else:
            doc.add(g.pick(["Flu vaccines", "Blood pressure checks"]))
        doc.add(" are available for all patients this week. ")
        doc.add(g.pick(["Learn about ", "Read our guide to "])).add(g.diagnosis(), "DIAGNOSIS").add(" on our website.")
    return doc, "near_miss", False


def referral(g):
    first, last = g.name()
    doc = Doc().add("Re: Referral\n\n" + g.pick(DOCTORS) + " is referring ")
    add_name(doc, g, first, last)
    doc.add(g.pick([" (DOB ", " (born ", ", date of birth "])).add(g.date(1935, 2010), "DOB")
    doc.add(g.pick([") for evaluation of ", ") for a consult regarding ", ") with suspected "]))
    doc.add(g.diagnosis(), "DIAGNOSIS").add(". Current medications: ")
    doc.add(g.drug(), "DRUG").add(" and ").add(g.drug(), "DRUG").add(".")
    if g.r.random() < 0.6:
        doc.add(g.pick([" Please call the patient at ", " The patient can be reached at "]))
        doc.add(g.phone(), "PHONE").add(".")
    doc.add("\n\nThank you,\n" + g.pick(DOCTORS))
    return doc, "referral", True


def refill(g):
    first, last = g.name()
    doc = Doc().add(g.pick(["Hi ", "Hello "])).add(first, "PERSON")
    doc.add(g.pick([", your prescription for ", ", your refill of ", ", the pharmacy has filled your "]))
    doc.add(g.drug(), "DRUG")
    doc.add(g.pick([" 10 mg", " 25 mcg", " 500 mg", ""]) + " is ready for pickup. ")
    doc.add(f"Rx #{g.r.randint(1000000, 9999999)}. Pickup window closes in 10 days.\n")
    doc.add(g.pick(ORGS) + " Pharmacy")
    return doc, "pharmacy", True


def provider_reply(g):
    first, last = g.name()
    title = g.pick(["Mr.", "Ms.", "Mrs."])
    doc = Doc().add(f"Hello {title} ").add(last, "PERSON").add(",\n\n")
    doc.add(g.pick(["I reviewed your recent labs. ", "Thanks for your message. ", "Following up on your visit. "]))
    doc.add(g.pick([f"Your LDL was {g.r.randint(130, 200)} mg/dL, so I would like you to start ",
                    "Given your symptoms I am prescribing ",
                    "Please continue taking "]))
    doc.add(g.drug(), "DRUG").add(g.pick([" and recheck in 3 months.", " once daily.", " as before."]))
    if g.r.random() < 0.5:
        doc.add(" This should also help with your ").add(g.diagnosis(), "DIAGNOSIS").add(".")
    doc.add("\n\n" + g.pick(DOCTORS))
    return doc, "provider_message", True


def roster(g):
    doc = Doc().add("Attached is the discharge list you asked for.\n\nname,dob,mrn,diagnosis\n")
    for _ in range(g.r.randint(1, 3)):
        first, last = g.name()
        add_name(doc, g, first, last)
        dob = g.date(1930, 2015)
        if "," in dob:
            dob = f'"{dob}"'
            doc.add(",\"").add(dob[1:-1], "DOB").add("\"")
        else:
            doc.add(",").add(dob, "DOB")
        doc.add(",").add(g.mrn(), "MRN").add(",")
        doc.add(g.diagnosis(), "DIAGNOSIS").add("\n")
    return doc, "roster", True


def eob(g):
    first, last = g.name()
    doc = Doc().add("Explanation of Benefits\nMember name: ")
    add_name(doc, g, first, last)
    doc.add("\nMember ID: ").add(g.member(), "MEMBER_ID")
    doc.add(f"\nClaim number: {g.r.randint(10000000000, 99999999999)}")
    doc.add("\nDate of service: ").add(g.date(2024, 2025), "DATE")
    doc.add("\nProvider: " + g.pick(DOCTORS) + " (NPI ").add(g.npi(), "NPI").add(")")
    doc.add("\nService: ").add(g.diagnosis(), "DIAGNOSIS")
    if g.r.random() < 0.5:
        doc.add(" (diagnosis code ").add(g.pick(g.icd), "ICD10").add(")")
    doc.add(f"\nAmount billed: ${g.r.randint(100, 4000)}.00  Plan paid: ${g.r.randint(50, 90)}%")
    return doc, "eob", True


def bare_identifier(g):
    doc = Doc()
    if g.r.random() < 0.5:
        doc.add(g.pick(["Please verify the SSN we have on file: ", "SSN provided on the form: ",
                        "Social security number "]))
        doc.add(g.ssn(g.r.random() < 0.8), "SSN").add(". Reply if it is wrong.")
    else:
        doc.add(g.pick(["The card on file is ", "We will charge card ", "Card number: "]))
        doc.add(g.card(), "CREDIT_CARD").add(g.pick([" on the 1st.", ". Thank you.", ""]))
    return doc, "bare_identifier", True


def staff(g):
    first = g.pick(FIRST)
    doc = Doc().add(g.pick(["Hi ", "Hello "])).add(first, "PERSON")
    doc.add(g.pick([", the staff meeting moved to ", ", the training on the new EHR is on ",
                    ", quarterly review is on "]))
    doc.add(g.date(2025, 2026) + g.pick([" at 3 PM in room B.", " at noon.", "."]))
    if g.r.random() < 0.6:
        doc.add(" Please bring the numbers for the ").add(g.diagnosis(), "DIAGNOSIS")
        doc.add(" outreach program.")
    doc.add("\nThanks,\n" + g.pick(FIRST))
    return doc, "staff", False


def it_alert(g):
    ip = f"{g.r.randint(11, 223)}.{g.r.randint(0, 255)}.{g.r.randint(0, 255)}.{g.r.randint(1, 254)}"
    doc = Doc().add(g.pick(["Alert: repeated failed logins from ", "Firewall blocked traffic from ",
                            "New VPN session from "]))
    doc.add(ip, "IP_ADDRESS")
    doc.add(f" on {g.date(2025, 2026)}. Ticket {g.r.randint(100000, 999999)} opened. Build 4.{g.r.randint(1, 9)}.{g.r.randint(0, 20)} deployed.")
    return doc, "it_notice", False


def vendor(g):
    doc = Doc().add(f"Purchase order {g.r.randint(10000, 99999)}: 40 cases of ")
    doc.add(g.drug(), "DRUG")
    doc.add(f" 500 mg tablets, NDC 0{g.r.randint(100, 999)}-{g.r.randint(1000, 9999)}-0{g.r.randint(1, 9)}, ")
    doc.add(f"lot {g.ssn()}, expiry {g.date(2026, 2028)}. Ship to our pharmacy at ")
    city, st = g.pick(CITIES)
    doc.add(f"{g.street()}, {city}, {st} {g.r.randint(10000, 99999)}.")
    return doc, "vendor", False


def education(g):
    dx = g.diagnosis()
    doc = Doc().add("Understanding ").add(dx, "DIAGNOSIS").add("\n\n")
    doc.add(g.pick(["Treatment often includes medicines such as ", "Many people take "]))
    doc.add(g.drug(), "DRUG").add(". ")
    doc.add(g.pick(["Talk to your doctor about your symptoms. ", "Ask your care team about your options. "]))
    if g.r.random() < 0.5:
        code = g.pick(g.icd)
        doc.add(f"In Q{g.r.randint(1, 4)}, {g.r.randint(50, 900)} patients with this condition "
                "(ICD-10 ").add(code, "ICD10").add(f") were seen; median age {g.r.randint(30, 70)}.")
    return doc, "education", False


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rng = random.Random(SEED)
    g = Gen(rng)
    makers = [(clinical_note, 0.10), (appointment, 0.09), (lab_result, 0.09), (billing, 0.07),
              (insurance, 0.05), (referral, 0.05), (refill, 0.04), (provider_reply, 0.04),
              (roster, 0.03), (eob, 0.04), (bare_identifier, 0.04),
              (newsletter, 0.10), (near_miss, 0.12), (staff, 0.04), (it_alert, 0.03),
              (vendor, 0.03), (education, 0.04)]
    patients = set()
    with open(HERE / "corpus.jsonl", "w", encoding="utf-8") as out:
        for i in range(count):
            maker = rng.choices([m for m, _ in makers], weights=[w for _, w in makers])[0]
            doc, category, phi = maker(g)
            for s in doc.spans:
                if s["type"] == "PERSON" and rng.random() < 0.6:
                    patients.add(doc.text()[s["start"]:s["end"]])
            record = {"id": f"m{i:05d}", "category": category, "text": doc.text(),
                      "contains_phi": phi, "spans": doc.spans}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    (HERE / "patients.txt").write_text("\n".join(sorted(patients)) + "\n", encoding="utf-8")
    print(f"wrote {count} messages, {len(patients)} patients")


if __name__ == "__main__":
    main()
