/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ads_rules.c - the lexicon of trafficking-ad indicators, one row per rule.
 *
 * Patterns are Hyperscan regular expressions matched against the lex view
 * (lower case, look-alikes and leetspeak folded, emoji kept), so "Y0UNG",
 * "ｙｏｕｎｇ" and "уоung" (Cyrillic) all hit "young".  Sources for the
 * lexicons are in docs/text.md: nair-p/SyntheticAdsGeneration labelling
 * functions (movement, youth, third person, unprotected, incall only,
 * independent-worker signals), the SDSU emoji study (rose, cherry, cherry
 * blossom, growing heart, airplane, crown) and the NIJ 2024 study
 * (trustworthiness language, ethnicity).
 *
 * `negatable` rules are dropped when "no", "not", "never" or a prohibition
 * emoji comes just before them ("NO PIMPS", "🚫 BB"): there they mean the
 * opposite.
 */
#include "text/ads_internal.h"

const vigil__ad_rule vigil__ad_rules[] = {
    /* minor stated or implied: always the top signal */
    {VIGIL_AD_MINOR, "\\bunder ?age(d)?\\b", 1},
    {VIGIL_AD_MINOR, "\\bjail ?bait\\b", 0},
    {VIGIL_AD_MINOR, "\\blolita\\b", 0},
    {VIGIL_AD_MINOR, "\\b(in|still in|attend|attending) (high|middle|junior high) ?school\\b", 0},
    {VIGIL_AD_MINOR, "\\bhigh ?school (girl|student|senior|junior|sophomore|freshman)\\b", 0},
    {VIGIL_AD_MINOR, "\\b([6-9]|1[0-2])th grade(r)?\\b", 0},
    {VIGIL_AD_MINOR, "\\b(almost|nearly|not yet|under) (18|eighteen|legal)\\b", 1},
    /* youth language */
    {VIGIL_AD_YOUTH, "\\bjust turned (18|19|eighteen|nineteen)\\b", 0},
    {VIGIL_AD_YOUTH, "\\b(young|younger|youthful|fresh|petite|tiny|student|college girl|coed|co-ed)\\b", 0},
    {VIGIL_AD_YOUTH, "\\b(hot |little |young )?teens?\\b", 0},
    {VIGIL_AD_YOUTH, "\\bbarely (legal|18)\\b", 0},
    {VIGIL_AD_YOUTH, "\\b(baby ?face|babyface|innocent|schoolgirl|school girl|little girl|daddy'?s girl)\\b", 0},
    {VIGIL_AD_YOUTH, "\\b(new to (this|the game|the business)|first time (doing|posting))\\b", 0},
    /* emoji codes (SDSU): cherry / cherry blossom = virgin, growing heart = minor */
    {VIGIL_AD_EMOJI_CODE, "\xF0\x9F\x8D\x92", 0}, /* cherry */
    {VIGIL_AD_EMOJI_CODE, "\xF0\x9F\x8C\xB8", 0}, /* cherry blossom */
    {VIGIL_AD_EMOJI_CODE, "\xF0\x9F\x92\x97", 0}, /* growing heart */
    /* third-person or plural voice */
    {VIGIL_AD_THIRD_PERSON, "\\b(she|she's|shes|her|hers|herself)\\b", 0},
    {VIGIL_AD_THIRD_PERSON, "\\b(we are|we're|our girls?|our ladies|us girls|ask for (her|them))\\b", 0},
    /* control */
    {VIGIL_AD_CONTROL, "\\b(pimps?|pimping)\\b", 1},
    {VIGIL_AD_CONTROL, "\\b(daddy|my man|my manager|my boss|my booker|my owner|owned by)\\b", 1},
    {VIGIL_AD_CONTROL, "\\b(call|text|contact) (my|our) (manager|driver|booker|man|boss)\\b", 0},
    {VIGIL_AD_CONTROL, "\xF0\x9F\x91\x91", 0}, /* crown */
    /* movement (evidence: LESS frequent in trafficking ads) */
    {VIGIL_AD_MOVEMENT, "\\b(new in town|just arrived|new arrived|few days|short stay|passing through|first time in)\\b", 0},
    {VIGIL_AD_MOVEMENT, "\\b(visiting|in town (for|only|until|till)|back in town|leaving (soon|tomorrow|today|town))\\b", 0},
    {VIGIL_AD_MOVEMENT, "\\b(limited time|last (day|night)|only here (for|until|till)|here for a (few|short))\\b", 0},
    {VIGIL_AD_MOVEMENT, "\xE2\x9C\x88", 0}, /* airplane */
    /* restricted services */
    {VIGIL_AD_RESTRICTED, "\\b(in ?calls? only|ins only|incall only|my place only|hosting only|only hosting)\\b", 0},
    {VIGIL_AD_RESTRICTED, "\\bno (outcalls?|outs|out visits|out calls?)\\b", 0},
    /* unprotected services */
    {VIGIL_AD_UNPROTECTED, "\\b(bare ?back|bbbj|bbfs|bbbjtc|bbbjwf|no condoms?|without (a )?condom|natural fs)\\b", 1},
    {VIGIL_AD_UNPROTECTED, "\\bbb\\b", 1},
    /* price codes */
    {VIGIL_AD_PRICE_CODE, "\\b[0-9]+ ?(roses?|kisses|hh|hhr|qv|qk|fh)\\b", 0},
    {VIGIL_AD_PRICE_CODE, "\\b(roses|donations?|qv|qk|hhr)\\b", 0},
    {VIGIL_AD_PRICE_CODE, "\xF0\x9F\x8C\xB9", 0}, /* rose */
    /* trustworthiness language */
    {VIGIL_AD_TRUST, "\\b(100 ?% ?(real|me|legit|genuine)|real pics|real photos|recent pics|real deal)\\b", 0},
    {VIGIL_AD_TRUST, "\\b(no (games|fakes?|drama|bait|scams?)|bait (and|&) switch|legit|verified|genuine|trust me|guaranteed)\\b", 0},
    {VIGIL_AD_TRUST, "\\b(me or (it'?s )?free|its me or|what you see is what you get)\\b", 0},
    /* ethnicity stated */
    {VIGIL_AD_ETHNICITY,
     "\\b(latina|latin|asian|ebony|black|white|korean|japanese|chinese|thai|vietnamese|filipina|filipino|"
     "taiwanese|malaysian|indian|persian|arab|hawaiian|polynesian|samoan|native|mixed|biracial|redbone|"
     "caucasian|european|russian|italian|brazilian|colombian|cuban|dominican|mexican|puerto ?rican|"
     "salvadorian|african|haitian|jamaican|snow ?bunny)\\b",
     1},
    /* independent-worker signals (point away from trafficking) */
    {VIGIL_AD_INDEPENDENT, "\\b(independent|indy|indi)\\b", 1},
    {VIGIL_AD_INDEPENDENT, "\\b(deposit|appointments?|references?|by appointment)\\b", 0},
    {VIGIL_AD_INDEPENDENT, "\\b(with (a )?condom|safe play|safe only|protected only|covered only|hats required)\\b", 0},
    {VIGIL_AD_INDEPENDENT, "\\b(no (pimps?|agency|agencies|management)|respectful|my limits|i have limits)\\b", 0},
};

const size_t vigil__ad_nrules = sizeof vigil__ad_rules / sizeof vigil__ad_rules[0];

/* Where contacts and ages can start (match view, so '@' and digits are as
 * written).  Every position the full scanners could act on must be a cue:
 * tests/test_text_contacts_corpus checks both paths agree on every ad. */
#define NUMBER_WORDS                                                                                             \
  "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"   \
  "seventeen|eighteen|nineteen|twenty|thirty|forty|fourty|fifty|sixty|seventy|eighty|ninety|hundred|"        \
  "thousand|oh"
#define PLATFORM_HOSTS "onlyfans\\.com|instagram\\.com|t\\.me|snapchat\\.com|kik\\.me|cash\\.app|venmo\\.com|twitter\\.com"

/* Word edges are spelled out as [^a-z0-9] rather than as a regex word
 * boundary: the extractors' words are ASCII alphanumerics, while a regex
 * word boundary also counts '_' as a word character. */
#define B "(^|[^a-z0-9])"
#define E "([^a-z0-9]|$)"

const vigil__cue_rule vigil__cue_rules[] = {
    /* one cue per digit run (at the byte after it), not per digit */
    {VIGIL__CUE_PHONE, VIGIL__AT_WORD, "[0-9]([^0-9]|$)"},
    {VIGIL__CUE_PHONE, VIGIL__AT_WORD, B "(" NUMBER_WORDS ")"},
    /* "o", "to", "too", "for" only count when glued to another number */
    {VIGIL__CUE_PHONE, VIGIL__AT_WORD, B "(o|to|too|for)([^a-z0-9]|$|[0-9]|" NUMBER_WORDS "|o|to|for)"},
    {VIGIL__CUE_ONLINE, VIGIL__AT_LAST, "@"},
    {VIGIL__CUE_ONLINE, VIGIL__AT_BRACKET, "[\\(\\[\\{]at[\\)\\]\\}]"},
    {VIGIL__CUE_ONLINE, VIGIL__AT_WORD, B "(http|www)"},
    {VIGIL__CUE_ONLINE, VIGIL__AT_WORD,
     B "(at|snapchat|snap|sc|kik|telegram|tg|whatsapp|instagram|insta|ig|onlyfans|cashapp|cash|venmo|twitter|skype)" E},
    {VIGIL__CUE_ONLINE, VIGIL__AT_HOST, "(" PLATFORM_HOSTS ")/"},
    {VIGIL__CUE_AGE, VIGIL__AT_END, "(yo|y/o|y\\.o|yoa|yrs?|years?|yrsold|yearsold)" E},
    {VIGIL__CUE_AGE, VIGIL__AT_END, "(age|aged|edad|i'm|im|i am|turned|barely)" E}, /* also "13age" */
};

const size_t vigil__cue_nrules = sizeof vigil__cue_rules / sizeof vigil__cue_rules[0];

const char *vigil_ad_rule_text(int rule) {
  if (rule < 0 || (size_t)rule >= vigil__ad_nrules) return NULL;
  return vigil__ad_rules[rule].pattern;
}
