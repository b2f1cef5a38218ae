/* SPDX-License-Identifier: Apache-2.0 */
/*
 * phone_plan.cc - the world's numbering plans, through libphonenumber.
 *
 * vigil finds phone numbers itself (contacts_phone.c: folding of words,
 * emoji, look-alike digits and separators, and the blocking of prices,
 * times, measures and dates); what it cannot know is which digit strings
 * are numbers in which country.  Google's libphonenumber (Debian
 * libphonenumber-dev) keeps those plans for every country, so this one C++
 * file asks it, behind a small C interface (text_internal.h).  It is the
 * only C++ in vigil: nothing C++ crosses the interface, and every
 * exception (allocation failure) is caught here and becomes VIGIL_ENOMEM.
 *
 * PhoneNumberUtil::GetInstance() is a thread-safe singleton holding the
 * compiled metadata; all calls below only read it, so they may run in
 * several threads at once.
 */
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstring>
#include <string>

#include "text/phone_plan.h"

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

/* Copies an upper-cased two-letter region code, or returns false. */
bool region_code(const char *region, std::string *out) {
  if (!region || std::strlen(region) != 2) return false;
  char r[3] = {0, 0, 0};
  for (int i = 0; i < 2; i++) {
    char c = region[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c < 'A' || c > 'Z') return false;
    r[i] = c;
  }
  *out = r;
  return true;
}

}  // namespace

extern "C" int vigil__phone_region_ok(const char *region) {
  try {
    std::string r;
    if (!region_code(region, &r)) return 0;
    return PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(r) != 0;
  } catch (...) {
    return 0;
  }
}

extern "C" int vigil__phone_region_nanp(const char *region) {
  try {
    std::string r;
    if (!region_code(region, &r)) return 0;
    return PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(r) == 1;
  } catch (...) {
    return 0;
  }
}

extern "C" int vigil__phone_plan(const char *digits, int intl, const char *region, char *e164, size_t cap) {
  if (e164 && cap) e164[0] = 0;
  try {
    const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
    std::string r = "ZZ", in;
    if (intl) {
      in = "+";
      in += digits;
    } else {
      if (!region_code(region, &r) || u->GetCountryCodeForRegion(r) == 0) return VIGIL__PLAN_NONE;
      in = digits;
    }
    /* With a region, libphonenumber also reads a number that starts with
     * the country code ("44 7440 566047") and one dialled with the
     * region's international prefix ("0044 ..."). */
    PhoneNumber pn;
    if (u->Parse(in, r, &pn) != PhoneNumberUtil::NO_PARSING_ERROR) return VIGIL__PLAN_NONE;
    int status = u->IsValidNumber(pn) ? VIGIL__PLAN_VALID : u->IsPossibleNumber(pn) ? VIGIL__PLAN_POSSIBLE
                                                                                    : VIGIL__PLAN_NONE;
    if (status == VIGIL__PLAN_NONE) return status;
    std::string out;
    u->Format(pn, PhoneNumberUtil::E164, &out);
    if (!e164 || out.size() + 1 > cap) return VIGIL__PLAN_NONE;
    std::memcpy(e164, out.c_str(), out.size() + 1);
    return status;
  } catch (...) {
    return VIGIL_ENOMEM;
  }
}

extern "C" int vigil__phone_trunk(const char *digits, const char *region) {
  try {
    std::string r, ndd;
    if (!digits || !region_code(region, &r)) return 0;
    PhoneNumberUtil::GetInstance()->GetNddPrefixForRegion(r, true, &ndd);
    return !ndd.empty() && std::strncmp(digits, ndd.c_str(), ndd.size()) == 0;
  } catch (...) {
    return 0;
  }
}
