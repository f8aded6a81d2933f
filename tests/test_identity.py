"""The IIN rule (glossary.md), checked on numbers whose check digits were worked out by hand.

Check digit: sum of the first 11 digits weighted 1..11, modulo 11; if that is 10, weights
3, 4, ..., 11, 1, 2; if 10 again, no valid IIN has these 11 digits.

1. A girl born 2 April 2015, serial 0123: 150402 6 0123 ?
   1*1 + 5*2 + 0*3 + 4*4 + 0*5 + 2*6 + 6*7 + 0*8 + 1*9 + 2*10 + 3*11
   = 1 + 10 + 0 + 16 + 0 + 12 + 42 + 0 + 9 + 20 + 33 = 143 = 13*11 -> remainder 0
   -> 150402601230.
2. A man born 14 July 1985, serial 0456: 850714 3 0456 ?
   8*1 + 5*2 + 0*3 + 7*4 + 1*5 + 4*6 + 3*7 + 0*8 + 4*9 + 5*10 + 6*11
   = 8 + 10 + 0 + 28 + 5 + 24 + 21 + 0 + 36 + 50 + 66 = 248 = 22*11 + 6 -> 850714304566.
3. The same girl, serial 0050 (needs the second weighting): 150402 6 0050 ?
   first:  1 + 10 + 0 + 16 + 0 + 12 + 42 + 0 + 0*9 + 5*10 + 0*11 = 131 = 11*11 + 10 -> 10, so
   second: 1*3 + 5*4 + 0*5 + 4*6 + 0*7 + 2*8 + 6*9 + 0*10 + 0*11 + 5*1 + 0*2
         = 3 + 20 + 0 + 24 + 0 + 16 + 54 + 0 + 0 + 5 + 0 = 122 = 11*11 + 1 -> 150402600501.
4. Serial 0130 has no check digit: 150402 6 0130 ?
   first:  1 + 10 + 0 + 16 + 0 + 12 + 42 + 0 + 1*9 + 3*10 + 0*11 = 120 = 10*11 + 10 -> 10
   second: 3 + 20 + 0 + 24 + 0 + 16 + 54 + 0 + 1*11 + 3*1 + 0*2 = 131 = 11*11 + 10 -> 10 again.
5. 30 February 2015: 150230 6 0001 ?
   first:  1 + 10 + 0 + 2*4 + 3*5 + 0*6 + 6*7 + 0 + 0 + 0 + 1*11 = 87 = 7*11 + 10 -> 10
   second: 1*3 + 5*4 + 0*5 + 2*6 + 3*7 + 0*8 + 6*9 + 0 + 0 + 0*1 + 1*2 = 112 = 10*11 + 2
   -> 150230600012: the check digit is right but the date does not exist.
6. Century digit 0 (not 1-6): 150402 0 0123 ?
   1 + 10 + 0 + 16 + 0 + 12 + 0*7 + 0 + 9 + 20 + 33 = 101 = 9*11 + 2 -> 150402001232.
7. 29 February 2000 (a leap year) vs 1900 (not one), serial 0001:
   000229 5 0001: 0 + 0 + 0 + 2*4 + 2*5 + 9*6 + 5*7 + 0 + 0 + 0 + 1*11 = 118 = 10*11 + 8 -> 000229500018
   000229 3 0001: 8 + 10 + 54 + 3*7 + 11 = 104 = 9*11 + 5 -> 000229300015.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from service.domain.identity import check_digit, iin_birth_date, make_iin, validate_iin

GIRL_2015 = "150402601230"
MAN_1985 = "850714304566"
SECOND_WEIGHTING = "150402600501"


# --- valid numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("iin", [GIRL_2015, MAN_1985, SECOND_WEIGHTING, "000229500018"])
def test_hand_computed_iins_are_valid(iin: str) -> None:
    assert validate_iin(iin) == []


def test_check_digit_uses_the_second_weighting_when_the_first_gives_ten() -> None:
    assert check_digit("15040260123") == 0
    assert check_digit("85071430456") == 6
    assert check_digit("15040260050") == 1


def test_check_digit_is_none_when_both_weightings_give_ten() -> None:
    assert check_digit("15040260130") is None


def test_check_digit_refuses_anything_but_eleven_digits() -> None:
    with pytest.raises(ValueError, match="first 11 digits"):
        check_digit("1504026012")
    with pytest.raises(ValueError, match="first 11 digits"):
        check_digit("1504026012a")


def test_iin_agrees_with_the_date_of_birth_given() -> None:
    assert validate_iin(GIRL_2015, date(2015, 4, 2)) == []
    assert validate_iin(MAN_1985, date(1985, 7, 14)) == []


def test_a_datetime_as_date_of_birth_is_compared_by_its_date() -> None:
    assert validate_iin(GIRL_2015, datetime(2015, 4, 2, 23, 59)) == []


# --- each problem code ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iin",
    [
        "15040260123",  # 11 digits
        "1504026012300",  # 13 digits
        "15040260123a",
        " 50402601230",
        "",
        "１５０４０２６０１２３０",  # full-width digits: isdigit() but not ASCII
    ],
)
def test_anything_but_twelve_ascii_digits_is_a_format_problem_only(iin: str) -> None:
    assert validate_iin(iin, date(2015, 4, 2)) == ["iin_format"]


def test_a_number_that_is_not_text_is_a_format_problem() -> None:
    assert validate_iin(150402601230) == ["iin_format"]  # type: ignore[arg-type]


def test_a_wrong_check_digit() -> None:
    assert validate_iin("150402601231") == ["iin_checksum"]
    assert validate_iin("850714304565") == ["iin_checksum"]


def test_eleven_digits_without_a_check_digit_are_never_valid() -> None:
    for last in "0123456789":
        assert validate_iin(f"15040260130{last}") == ["iin_checksum"]


def test_a_date_that_does_not_exist() -> None:
    assert validate_iin("150230600012") == ["iin_date"]
    assert iin_birth_date("150230600012") is None


def test_a_century_digit_outside_one_to_six_gives_no_date() -> None:
    assert validate_iin("150402001232") == ["iin_date"]
    assert iin_birth_date("150402001232") is None


def test_29_february_exists_in_2000_but_not_in_1900() -> None:
    assert validate_iin("000229500018") == []
    assert iin_birth_date("000229500018") == date(2000, 2, 29)
    assert validate_iin("000229300015") == ["iin_date"]


def test_a_date_of_birth_that_differs() -> None:
    assert validate_iin(GIRL_2015, date(2015, 4, 3)) == ["iin_birth_date_mismatch"]
    # Same day and month, other century: 2015 is encoded, not 1915.
    assert validate_iin(GIRL_2015, date(1915, 4, 2)) == ["iin_birth_date_mismatch"]


def test_all_problems_are_reported_together() -> None:
    # 150230600012 with its last digit changed: wrong check digit and no real date.
    assert validate_iin("150230600013", date(2015, 2, 28)) == ["iin_checksum", "iin_date"]
    # A wrong check digit does not hide a date mismatch.
    assert validate_iin("150402601231", date(2015, 4, 3)) == ["iin_checksum", "iin_birth_date_mismatch"]


# --- the date in the IIN ---------------------------------------------------------------------------


def test_birth_date_follows_the_century_digit() -> None:
    assert iin_birth_date(GIRL_2015) == date(2015, 4, 2)
    assert iin_birth_date(MAN_1985) == date(1985, 7, 14)
    assert iin_birth_date("850714104566") == date(1885, 7, 14)  # digit 1: the 1800s


def test_birth_date_of_malformed_input_is_none() -> None:
    assert iin_birth_date("15040260123") is None
    assert iin_birth_date("abcdefghijkl") is None


# --- making IINs for tests -----------------------------------------------------------------------


def test_make_iin_reproduces_the_hand_computed_numbers() -> None:
    assert make_iin(date(2015, 4, 2), "female", 123) == GIRL_2015
    assert make_iin(date(1985, 7, 14), "male", 456) == MAN_1985
    assert make_iin(date(2015, 4, 2), "female", 50) == SECOND_WEIGHTING


def test_make_iin_encodes_century_and_sex() -> None:
    assert make_iin(date(1899, 12, 31), "male", 1)[6] == "1"
    assert make_iin(date(1899, 12, 31), "female", 1)[6] == "2"
    assert make_iin(date(1950, 1, 1), "male", 1)[6] == "3"
    assert make_iin(date(1950, 1, 1), "female", 1)[6] == "4"
    assert make_iin(date(2010, 1, 1), "male", 1)[6] == "5"
    assert make_iin(date(2010, 1, 1), "female", 3)[6] == "6"


def test_make_iin_refuses_a_serial_without_a_check_digit() -> None:
    with pytest.raises(ValueError, match="serial 0130"):
        make_iin(date(2015, 4, 2), "female", 130)


@pytest.mark.parametrize(
    ("born", "sex", "serial", "message"),
    [
        (date(2015, 4, 2), "girl", 1, "sex"),
        (date(2015, 4, 2), "female", -1, "serial"),
        (date(2015, 4, 2), "female", 10000, "serial"),
        (date(2015, 4, 2), "female", True, "serial"),
        (date(2100, 1, 1), "female", 1, "1800-2099"),
        (date(1799, 12, 31), "male", 1, "1800-2099"),
    ],
)
def test_make_iin_refuses_what_an_iin_cannot_hold(born: date, sex: str, serial: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_iin(born, sex, serial)


def test_every_made_iin_is_valid_and_carries_its_date() -> None:
    born = date(2012, 9, 1)
    made = 0
    for serial in range(200):
        try:
            iin = make_iin(born, "male", serial)
        except ValueError:
            continue
        made += 1
        assert validate_iin(iin, born) == []
        assert iin_birth_date(iin) == born
    # About one serial in eleven has no check digit.
    assert 170 <= made < 200
