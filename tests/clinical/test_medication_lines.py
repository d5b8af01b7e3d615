"""Medication lines as clinics type them: what each is read as, and which classes it counts in."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accretion.clinical.medication_lines import read
from accretion.clinical.medications import ANTICOAGULANT, ANTIPLATELET, NSAID, SYSTEMIC_STEROID

AC, AP, NS, ST = ANTICOAGULANT, ANTIPLATELET, NSAID, SYSTEMIC_STEROID
UNREAD = "unread"  # the line is not fully recognised: a physician reviews it

# (line as typed, the classes it counts in, an ingredient it must name or UNREAD)
LINES = [
    # Anticoagulants: brands, generics, salts, sigs
    ("eliquis 5mg BID", {AC}, "apixaban"),
    ("Eliquis (apixaban) 5 mg PO BID", {AC}, "apixaban"),
    ("Eliquis 2.5 mg 1 tab by mouth twice daily", {AC}, "apixaban"),
    ("Xarelto 20 mg daily with supper", {AC}, "rivaroxaban"),
    ("XARELTO 15MG QD", {AC}, "rivaroxaban"),
    ("rivaroxaban 10 mg once daily x 35 days", {AC}, "rivaroxaban"),
    ("warfarin sodium 5 mg", {AC}, "warfarin"),
    ("Coumadin 5 mg M/W/F, 2.5 mg other days", {AC}, "warfarin"),
    ("Jantoven 3 mg at bedtime", {AC}, "warfarin"),
    ("Pradaxa 150 mg bid", {AC}, "dabigatran"),
    ("dabigatran etexilate 150mg", {AC}, "dabigatran"),
    ("Savaysa 60 mg daily", {AC}, "edoxaban"),
    ("Lovenox 40 mg SC daily", {AC}, "enoxaparin"),
    ("enoxaparin 1 mg/kg subq q12h", {AC}, "enoxaparin"),
    ("heparin 5000 units sc q8h", {AC}, "heparin"),
    ("Fragmin 5000 IU", {AC}, "dalteparin"),
    ("Arixtra 2.5 mg injection", {AC}, "fondaparinux"),
    # Antiplatelets, aspirin in every disguise
    ("clopidogrel bisulfate 75 mg", {AP}, "clopidogrel"),
    ("Plavix (clopidogrel) 75 mg daily", {AP}, "clopidogrel"),
    ("Brilinta 90 mg twice a day", {AP}, "ticagrelor"),
    ("Effient 10 mg", {AP}, "prasugrel"),
    ("Baby aspirin", {AP}, "aspirin"),
    ("aspirin 81mg daily for heart", {AP}, "aspirin"),
    ("ASA 81 mg EC", {AP}, "aspirin"),
    ("Ecotrin 325", {AP}, "aspirin"),
    ("Bayer low dose 81 mg", {AP}, "aspirin"),
    ("Bufferin", {AP}, "aspirin"),
    ("Excedrin Migraine", {AP}, "aspirin"),
    ("Excedrin Extra Strength 2 caplets prn headache", {AP}, "aspirin"),
    ("Goody's powder", {AP}, "aspirin"),
    ("BC powder", {AP}, "aspirin"),
    ("Anacin", {AP}, "aspirin"),
    ("Alka-Seltzer", {AP}, "aspirin"),
    ("Aggrenox 25/200 bid", {AP}, "dipyridamole"),
    ("aspirin/dipyridamole ER", {AP}, "dipyridamole"),
    ("Yosprala 81/40", {AP}, "aspirin"),
    ("Percodan", {AP}, "aspirin"),
    ("Pletal 100 mg", {AP}, "cilostazol"),
    ("cilostazol 50 mg bid", {AP}, "cilostazol"),
    # NSAIDs, alone and with a stomach protector
    ("Advil PRN", {NS}, "ibuprofen"),
    ("Motrin IB 200 mg", {NS}, "ibuprofen"),
    ("Ibuprofen 800 mg q8h prn pain", {NS}, "ibuprofen"),
    ("Advil Liqui-Gels", {NS}, "ibuprofen"),
    ("Aleve 220mg", {NS}, "naproxen"),
    ("naproxen sodium 550 mg DS", {NS}, "naproxen"),
    ("Anaprox DS", {NS}, "naproxen"),
    ("EC-Naprosyn 500", {NS}, "naproxen"),
    ("Vimovo 500/20", {NS}, "naproxen"),
    ("Duexis", {NS}, "ibuprofen"),
    ("Arthrotec 75", {NS}, "diclofenac"),
    ("Voltaren gel 1% topical qid", {NS}, "diclofenac"),
    ("diclofenac potassium 50 mg", {NS}, "diclofenac"),
    ("Mobic 7.5mg", {NS}, "meloxicam"),
    ("Meloxicam 15 mg qd", {NS}, "meloxicam"),
    ("Celebrex 200 mg", {NS}, "celecoxib"),
    ("Toradol 10 mg", {NS}, "ketorolac"),
    ("Indocin 25 mg tid with food", {NS}, "indomethacin"),
    ("Relafen 500 mg", {NS}, "nabumetone"),
    ("etodolac ER 400", {NS}, "etodolac"),
    # Both classes on one line
    ("plavix 75 mg and eliquis 5 mg", {AC, AP}, "apixaban"),
    ("Plavix + aspirin 81", {AP}, "clopidogrel"),
    # Systemic corticosteroids
    ("Medrol 4 mg dose pack", {ST}, "methylprednisolone"),
    ("Medrol Dosepak", {ST}, "methylprednisolone"),
    ("Solu-Medrol 125 mg IV", {ST}, "methylprednisolone"),
    ("Depo-Medrol 80 mg inj", {ST}, "methylprednisolone"),
    ("prednisone 10 mg taper", {ST}, "prednisone"),
    ("Deltasone 20 mg", {ST}, "prednisone"),
    ("Decadron 4 mg", {ST}, "dexamethasone"),
    ("Kenalog injection", {ST}, "triamcinolone"),
    # Acetaminophen is not an NSAID; other drugs that matter to none of the classes
    ("Tylenol Extra Strength 500 mg", set(), "acetaminophen"),
    ("Tylenol", set(), "acetaminophen"),
    ("Percocet 5/325 q6h prn", set(), "acetaminophen"),
    ("Norco 10/325", set(), "acetaminophen"),
    ("Vicodin", set(), "hydrocodone"),
    ("Ultracet", set(), "tramadol"),
    ("Tramadol 50 mg q.i.d. p.r.n.", set(), "tramadol"),
    ("gabapentin 300 mg tid", set(), "gabapentin"),
    ("Lyrica 75 mg bid", set(), "pregabalin"),
    ("Flexeril 10 mg at bedtime", set(), "cyclobenzaprine"),
    ("lisinopril 10 mg", set(), "lisinopril"),
    ("metformin ER 500 mg bid with meals", set(), "metformin"),
    ("Lipitor 40 mg at night", set(), "atorvastatin"),
    ("omeprazole 20 mg before breakfast", set(), "omeprazole"),
    ("Xanax 0.5 mg at bedtime", set(), "alprazolam"),
    ("Vitamin D3 2000 IU", set(), "cholecalciferol"),
    ("fish oil 1000 mg", set(), "fish oil"),
    ("multivitamin daily", set(), "multivitamin"),
    # Look-alikes resolve to themselves, never to the name they resemble
    ("Celexa 20", set(), "citalopram"),
    ("Zyrtec 10 mg", set(), "cetirizine"),
    ("Xalatan eye drops", set(), "latanoprost"),
    # Misspellings and non-drugs are never guessed
    ("eliquiss", set(), UNREAD),
    ("Xarleto 20 mg", set(), UNREAD),
    ("Plavics", set(), UNREAD),
    ("Tylenol and eliquiss", set(), UNREAD),
    ("blood thinner", set(), UNREAD),
    ("heart pill", set(), UNREAD),
    ("no medications", set(), UNREAD),
    ("turmeric", set(), UNREAD),
]


def test_the_table_is_large_enough():
    assert len(LINES) >= 80


@pytest.mark.parametrize("line, classes, named", LINES, ids=[line for line, _, _ in LINES])
def test_each_line_reads_as_expected(line, classes, named):
    reading = read(line)
    assert set(reading.classes) == classes
    if named == UNREAD:
        assert not reading.recognized and reading.unread
    else:
        assert named in reading.ingredients
        assert reading.recognized, reading.unread


def test_a_combination_lists_every_ingredient_in_order():
    assert read("Excedrin Migraine").ingredients == ("aspirin", "acetaminophen", "caffeine")
    assert read("Aggrenox").ingredients == ("aspirin", "dipyridamole")
    assert read("Vimovo").ingredients == ("naproxen", "esomeprazole")


def test_the_same_drug_named_twice_counts_once():
    assert read("Eliquis (apixaban) 5 mg").ingredients == ("apixaban",)


def test_unread_words_are_named():
    assert read("Tylenol and eliquiss").unread == ("eliquiss",)
    assert read("eliquiss 5 mg bid").unread == ("eliquiss",)


def test_a_purpose_after_for_needs_no_reading_but_drugs_in_it_still_count():
    assert read("Tylenol for lower back stiffness").recognized
    assert read("heart pill for afib, probably eliquis").classes == (AC,)


def test_entered_text_is_kept_on_one_line():
    assert read("  Eliquis\n5 mg\tbid ").entered == "Eliquis 5 mg bid"


def test_to_dict_shape():
    assert read("Baby aspirin").to_dict() == {
        "entered": "Baby aspirin", "ingredients": ["aspirin"], "classes": [AP], "unread": []}


_RECOGNISED = [line for line, _, named in LINES if named != UNREAD]
_SIG = st.lists(
    st.sampled_from([
        "5 mg", "81mg", "2.5 mg", "20 MG", "0.5 mL", "1000 IU", "10/325", "1 tab", "2 caps", "by mouth", "PO",
        "SC", "IV", "topical", "BID", "tid", "QID", "qhs", "q6h", "q12h", "PRN", "prn pain", "as needed",
        "daily", "once daily", "twice a day", "every other day", "at bedtime", "with food", "with supper",
        "before breakfast", "x 7 days", "ER", "DR", "EC", "XR", "extended-release", "(", ")", ",", ";",
        "for back pain", "M/W/F", "taper",
    ]),
    min_size=1, max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_RECOGNISED), _SIG, st.booleans())
def test_dose_and_frequency_text_never_changes_the_classes(line, sig, before):
    """Adding strength, units, route, frequency, PRN, schedules or release forms keeps a line's classes."""
    text = " ".join(sig)
    extended = f"{text} {line}" if before else f"{line} {text}"
    assert read(extended).classes == read(line).classes
    assert set(read(line).ingredients) <= set(read(extended).ingredients)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_RECOGNISED))
def test_case_and_spacing_never_change_a_reading(line):
    shouted = "  " + "  ".join(line.upper().split()) + " "
    assert read(shouted).classes == read(line).classes
    assert read(shouted).ingredients == read(line).ingredients


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_reads_without_error(text):
    reading = read(text)
    assert reading.recognized == (bool(reading.ingredients) and not reading.unread)
    assert set(reading.classes) <= {AC, AP, NS, ST}
