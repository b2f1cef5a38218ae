/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convo_rules.c - the grooming lexicon and its one-pass scan.
 *
 * Each rule names a stage of grooming (vigil/convo.h) or an age signal and
 * is a regular expression over the matching form of convo_norm.c (lower
 * case, no apostrophes, single spaces, leetspeak folded).  The stages and
 * their concrete behaviours follow the published coding schemes collected
 * in ../shared/docs/indicators.md: O'Connell (2003) friendship, risk
 * assessment, exclusivity and sexual stages; ChatCoder2 (Kontostathis,
 * Edwards et al.) personal information, grooming and approach codes;
 * Lorenzo-Dus et al. (2016) trust development, desensitisation and
 * compliance testing; and the frequent behaviours listed there (asl,
 * compliments, gifts, photo/webcam requests, "don't tell", "delete this",
 * moving to snap/kik/whatsapp, asking if alone, arranging to meet).
 *
 * All rules are compiled into ONE Hyperscan database with leftmost start of
 * match, so a message is read once whatever the number of rules; the
 * callback keeps the first hit of each kind (a stage counts once per
 * message).  Age rules carry the number in their span; it is read back and
 * checked (range, no unit after it) before the hit is kept.
 *
 * Phrases are written for precision: "nice to meet you" is not a meeting
 * request, "don't tell me" is not secrecy, and swearing is not sexual
 * content, so each rule asks for the words that make the intent clear.
 */
#include "convo/convo_internal.h"

#include <hs/hs.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"

#define YOU "(?:you|u|ya|yu)"
#define YOUR "(?:your|ur|yur|yr)"
#define YOURE "(?:youre|your|ur|you are|u r|u are|yur|ure|youre are)"
#define PARENT                                                                                          \
  "(?:mom|mommy|mum|mother|dad|daddy|father|parents|parent|folks|step ?dad|step ?mom|grandma|grandmother|" \
  "grandpa|aunt|uncle|family|sister|brother|sis|bro)"
#define NUMW                                                                                                 \
  "(?:\\d{1,2}|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty(?: " \
  "?(?:one|two|three|four|five|six|seven|eight|nine))?|thirty|forty|fourty|fifty|sixty)"
#define ORD "(?:\\d{1,2}(?:th|st|nd|rd)?|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth)"
#define PIC "(?:pic|pics|picture|pictures|photo|photos|pix|pik|piks|selfie|selfies|nudes|vid|vids|video|videos)"
#define CAM "(?:web ?cam|cam|webcam|cam2cam|cam 2 cam)"
#define APP                                                                                          \
  "(?:snapchat|snap|kik|whatsapp|whats app|telegram|discord|skype|instagram|insta|wickr|facetime|" \
  "yahoo messenger|yahoo|yim|msn|aim|myspace|facebook|fb|messenger|wechat|line)"

const vigil__crule vigil__convo_rules[] = {
    /* Personal information and age/location probing (ChatCoder2 personal
     * information; "asl" in indicators.md). */
    {VIGIL_STAGE_PERSONAL, "\\b(?:asl|a/s/l|a s l)\\b"},
    {VIGIL_STAGE_PERSONAL, "\\bhow old (?:are|r|is) " YOU "\\b"},
    {VIGIL_STAGE_PERSONAL, "\\b(?:whats|what is) " YOUR " age\\b"},
    {VIGIL_STAGE_PERSONAL, "\\bwhat grade\\b"},
    {VIGIL_STAGE_PERSONAL, "\\bwhat school\\b"},
    {VIGIL_STAGE_PERSONAL, "\\bwhere (?:do|d) " YOU " (?:live|stay)\\b"},
    {VIGIL_STAGE_PERSONAL, "\\b(?:do|d|got) " YOU " (?:have|got) (?:a )?(?:bf|boyfriend|gf|girlfriend)\\b"},
    {VIGIL_STAGE_PERSONAL, "\\bwhat do " YOU " look like\\b"},
    {VIGIL_STAGE_PERSONAL, "\\bdescribe (?:yourself|urself)\\b"},
    {VIGIL_STAGE_PERSONAL, "\\bwhen is " YOUR " birthday\\b"},

    /* Trust development: compliments, affection (Lorenzo-Dus et al.). */
    {VIGIL_STAGE_TRUST,
     "\\b" YOURE " (?:so |really |very |such a |soo |realy |sooo )?(?:pretty|cute|beautiful|gorgeous|sweet|special|"
     "mature|adorable|amazing|perfect|smart|hot|sexy|cutie|sweetie|angel)\\b"},
    {VIGIL_STAGE_TRUST, "\\bi (?:really )?(?:love|luv|care about|adore|trust) " YOU "\\b"},
    {VIGIL_STAGE_TRUST, "\\b" YOU " can trust me\\b"},
    {VIGIL_STAGE_TRUST, "\\bmature for " YOUR " age\\b"},
    {VIGIL_STAGE_TRUST, "\\bi miss " YOU "\\b"},
    {VIGIL_STAGE_TRUST, "\\bthinking (?:about|of) " YOU "\\b"},
    {VIGIL_STAGE_TRUST, "\\bi (?:really )?like " YOU " (?:a lot|alot|so much)\\b"},
    {VIGIL_STAGE_TRUST, "\\b(?:im|i am) (?:falling|fallin) for " YOU "\\b"},
    {VIGIL_STAGE_TRUST, "\\b" YOU " understand me\\b"},
    {VIGIL_STAGE_TRUST, "\\b(?:hi|hey|hello|hiya|morning|night) (?:cutie|sexy|beautiful|gorgeous|sweetie|hottie|angel|"
                        "princess|sweetheart|pretty)\\b"},

    /* Risk assessment: is anyone watching, are the parents around
     * (O'Connell 2003; ChatCoder2 approach/isolation). */
    {VIGIL_STAGE_RISK, "\\b(?:are|r) " YOU " (?:home )?(?:alone|by (?:yourself|urself))\\b"},
    {VIGIL_STAGE_RISK, "\\b(?:home|house) (?:alone|to (?:yourself|urself))\\b"},
    {VIGIL_STAGE_RISK, "\\b(?:where|wheres|where is|where are|where r) " YOUR " " PARENT "\\b"},
    {VIGIL_STAGE_RISK,
     "\\b(?:is|are|r|iz) " YOUR " " PARENT " (?:home|there|around|awake|asleep|gone|at work|working|out|in bed|up)\\b"},
    {VIGIL_STAGE_RISK, "\\b(?:when|what time) (?:do|does|dose|will|is|r|are) " YOUR " " PARENT
                       " (?:get|come|be|go|leave|going|coming|getting)\\b"},
    {VIGIL_STAGE_RISK, "\\bwho else (?:is|uses|lives|reads|sees|is there|is home|is around)\\b"},
    {VIGIL_STAGE_RISK, "\\b(?:anyone|anybody|any1|ne1|some1|someone) (?:else )?(?:home|there|around|watching|with " YOU
                       ")\\b"},
    {VIGIL_STAGE_RISK, "\\b(?:does|do|would|will|dose) " YOUR " " PARENT
                       " (?:check|read|look at|know|care|let " YOU "|mind|find out|see)\\b"},
    {VIGIL_STAGE_RISK, "\\b(?:can|could) " YOU " (?:sneak|get) out\\b"},
    {VIGIL_STAGE_RISK, "\\bsneak (?:out|away)\\b"},
    {VIGIL_STAGE_RISK, "\\b(?:are|r) " YOUR " " PARENT " strict\\b"},
    {VIGIL_STAGE_RISK, "\\b(?:the )?rents\\b"},
    {VIGIL_STAGE_RISK, "\\b(?:mom|mum|dad|parents|folks) (?:home|around|gone|asleep|awake|at work|coming back|come back|"
                       "get back|be back|get home|gets home|leave|leaves)\\b"},
    {VIGIL_STAGE_RISK, "\\bwhy (?:are|r) " YOU " (?:home|alone)\\b"},

    /* Exclusivity and secrecy (O'Connell 2003; ChatCoder2 approach: secrecy,
     * parents, police). */
    {VIGIL_STAGE_SECRECY, "\\b(?:dont|do not|dnt|never|not|wont|cant|shouldnt) (?:tell|say|mention|show)"
                          " (?:anyone|anybody|nobody|no one|noone|any1|ne1|" YOUR " " PARENT
                          "|people|ur friends|your friends|about (?:this|us|me|it)|(?:him|her|them) about (?:this|us|me|it))\\b"},
    {VIGIL_STAGE_SECRECY, "\\b(?:our|a) (?:little )?secret\\b"},
    {VIGIL_STAGE_SECRECY, "\\bkeep (?:it|this|that|us) (?:a secret|secret|between (?:us|" YOU " and me))\\b"},
    {VIGIL_STAGE_SECRECY, "\\b(?:just )?between (?:us|" YOU " and me|" YOU " and i|me and " YOU ")\\b"},
    {VIGIL_STAGE_SECRECY, "\\b(?:delete|erase|clear|wipe) (?:this|that|these|those|the|our|all|" YOUR "|my|all the|all of)"
                          " (?:chat|chats|messages|message|msgs|msg|pics|pic|pictures|picture|convo|conversation|"
                          "history|texts|text|logs|log|photos|photo|emails|archive|archives)\\b"},
    {VIGIL_STAGE_SECRECY, "\\bdelete (?:it|them|this|that) (?:after|when|right|now|before)\\b"},
    {VIGIL_STAGE_SECRECY, "\\b(?:i|id|i would|i could|i can|i will|ill|we|we could|would) (?:go|get sent|be sent|get put|"
                          "end up|get in trouble|be in trouble|get arrested|go to) (?:to |in )?(?:jail|prison)\\b"},
    {VIGIL_STAGE_SECRECY, "\\b(?:get|got|gets|getting) (?:me|us) (?:in trouble|arrested|busted|in jail|locked up)\\b"},
    {VIGIL_STAGE_SECRECY, "\\b(?:are|r) " YOU " (?:a |an )?(?:cop|police|fed|undercover|agent|setting me up)\\b"},
    {VIGIL_STAGE_SECRECY, "\\b(?:not|aint|arent|isnt) (?:a )?(?:cop|police|fed|set ?up|sting)\\b"},
    {VIGIL_STAGE_SECRECY, "\\b(?:no one|nobody|noone|no1) (?:can|will|has to|needs to|would|must|should|gonna|is gonna)"
                          " (?:know|find out)\\b"},
    {VIGIL_STAGE_SECRECY, "\\b(?:they|" YOUR " " PARENT "|people) (?:wouldnt|would not|dont|wont|will not|would never)"
                          " understand\\b"},
    {VIGIL_STAGE_SECRECY, "\\bif " YOUR " " PARENT " (?:found out|find out|finds out|knew|saw|sees|catches|caught)\\b"},
    {VIGIL_STAGE_SECRECY, "\\b" YOU " (?:cant|can not|cannot|shouldnt|better not|must not|mustnt) tell\\b"},
    {VIGIL_STAGE_SECRECY, "\\b(?:wont|wouldnt|wudnt|will not|would not|dont|never|not) (?:get|gettin|getting) caught\\b"},
    {VIGIL_STAGE_SECRECY, "\\b(?:wouldnt|wudnt|wont|will not|would not) (?:tell|say) (?:no one|nobody|noone|anyone|anybody)\\b"},
    {VIGIL_STAGE_SECRECY, "\\b(?:i|id|i would|i could|i will|ill|we|we could|we would) (?:get|be|go|end up) in "
                          "(?:big |a lot of |alot of |so much |serious )?trouble\\b"},

    /* Desensitisation and sexual content (ChatCoder2 grooming: sexual
     * activities, body, intimacy; Lorenzo-Dus et al. desensitisation). */
    {VIGIL_STAGE_SEXUAL, "\\b(?:sex|sexual|sexually|horny|naked|nude|cock|dick|penis|pussy|vagina|clit|boobs|boobies|tits|"
                         "titties|nipples|nipple|cum|cumming|orgasm|orgasms|masturbate|masturbating|masturbated|"
                         "blowjob|blow job|bj|handjob|hand job|oral|virgin|panties|thong|lingerie|boner|erection|"
                         "hard on|condom|condoms|porn|69|anal|make love|making love|fingered|fingering|"
                         "jerk off|jack off|jerking off|jacking off)\\b"},
    {VIGIL_STAGE_SEXUAL, "\\b(?:wanna|want to|gonna|going to|would|could|let me|lemme|can i|i could) (?:fuck|lick|suck|"
                         "kiss|touch|feel|taste|eat|rub) (?:you|u|ya|your|ur|me|my|it|them|those|that|her|him)\\b"},
    {VIGIL_STAGE_SEXUAL, "\\b(?:have|ever) " YOU " (?:ever )?(?:had sex|done it|been (?:kissed|touched|fingered|licked)|"
                         "masturbated|seen a|touched (?:a|yourself|urself)|played with (?:yourself|urself))\\b"},
    {VIGIL_STAGE_SEXUAL, "\\bwhat (?:are|r) " YOU " wearing\\b"},
    {VIGIL_STAGE_SEXUAL, "\\b(?:touch|play with|rub) (?:yourself|urself|myself|me|my|your|ur)\\b"},
    {VIGIL_STAGE_SEXUAL, "\\b(?:get|make|makes|made|getting|making) (?:me|you|u) (?:hard|wet|horny)\\b"},
    {VIGIL_STAGE_SEXUAL, "\\b(?:bra|cup) size\\b"},
    {VIGIL_STAGE_SEXUAL, "\\bhow many (?:guys|boys|girls|people|men) (?:have|did|u|you|ya)\\b"},
    {VIGIL_STAGE_SEXUAL, "\\b(?:the )?most (?:youve|you have|u have|uve|u|you) (?:ever )?(?:done|did)\\b"},
    {VIGIL_STAGE_SEXUAL, "\\bdid it hurt\\b"},
    {VIGIL_STAGE_SEXUAL, "\\b(?:shave|shaved|shaving) (?:down there|there|ur|your|it)\\b"},
    {VIGIL_STAGE_SEXUAL, "\\b(?:in (?:my|your|ur) bed|sleep with (?:you|u|me)|spoon|cuddle naked)\\b"},

    /* Compliance testing (Lorenzo-Dus et al. 2016). */
    {VIGIL_STAGE_COMPLIANCE, "\\b(?:would|will|wud|wil|wuld) " YOU " (?:do|try) (?:it|that|this|anything|something|stuff)\\b"},
    {VIGIL_STAGE_COMPLIANCE, "\\b(?:are|r) " YOU " (?:sure|ok|okay|cool|comfortable|fine|alright|down) (?:with|about) "
                             "(?:that|this|it|doing|me|us)\\b"},
    {VIGIL_STAGE_COMPLIANCE, "\\b(?:i|ill|i will|i can|i could|i would|let me|lemme) (?:teach|show) " YOU
                             " (?:how|what|things|stuff|everything)\\b"},
    {VIGIL_STAGE_COMPLIANCE, "\\bprove it\\b"},
    {VIGIL_STAGE_COMPLIANCE, "\\bif " YOU " (?:really )?(?:love|loved|trust|trusted|like|liked|care|cared)(?: about)? me\\b"},
    {VIGIL_STAGE_COMPLIANCE, "\\b" YOU " (?:wont|will not|wouldnt) (?:get|be) (?:scared|mad|upset|freaked|afraid)\\b"},
    {VIGIL_STAGE_COMPLIANCE, "\\bdont be (?:scared|shy|nervous|afraid|embarrassed|embarassed)\\b"},
    {VIGIL_STAGE_COMPLIANCE, "\\b(?:do|would|will|wud) " YOU " let me\\b"},
    {VIGIL_STAGE_COMPLIANCE, "\\bdo " YOU " trust me\\b"},
    {VIGIL_STAGE_COMPLIANCE, "\\b(?:would|will|wud|do) " YOU " (?:want|wanna|like) (?:to )?(?:try|learn|experiment)\\b"},
    {VIGIL_STAGE_COMPLIANCE, "\\b(?:is|would) (?:that|it|this) be (?:ok|okay|alright)\\b"},
    {VIGIL_STAGE_COMPLIANCE, "\\bwould (?:that|it|this) (?:be )?(?:ok|okay|alright) with " YOU "\\b"},

    /* Requests for pictures or webcam. */
    {VIGIL_STAGE_IMAGES, "\\b(?:send|snd|sned|show|post|email|mail|share|trade|swap) (?:me )?(?:a |an |another |some |ur |"
                         "your |more |the |any )?(?:sexy |hot |naked |nude |new |full body |body )?" PIC "\\b"},
    {VIGIL_STAGE_IMAGES, "\\b(?:do|d|got|have|can) " YOU " (?:have|got|get|turn on|use)? ?(?:a |an |any |some )?(?:" CAM
                         "|" PIC ")\\b"},
    {VIGIL_STAGE_IMAGES, "\\b(?:turn|put|get|go) (?:on )?(?:your|ur|the|yur) (?:cam|webcam|web cam)\\b"},
    {VIGIL_STAGE_IMAGES, "\\b(?:on|over) (?:cam|webcam|web cam)\\b"},
    {VIGIL_STAGE_IMAGES, "\\b(?:web ?cam|cam2cam|cam 2 cam)\\b"},
    {VIGIL_STAGE_IMAGES, "\\bshow me (?:your|ur|it|ya|yourself|urself|them|what|some|more)\\b"},
    {VIGIL_STAGE_IMAGES, "\\b(?:can|could|may|want to|wanna) (?:i )?see (?:" YOU "|" YOUR "|it|them|more|more of)\\b"},
    {VIGIL_STAGE_IMAGES, "\\b" PIC " (?:of|with) (?:you|u|yourself|urself|ur|your)\\b"},

    /* Gifts, money, credits. */
    {VIGIL_STAGE_GIFTS, "\\b(?:ill|i will|i can|i could|id|i would|i wanna|i want to|let me|gonna|i might) (?:buy|get|give|send|"
                        "bring) " YOU " (?:a |an |some |something|anything|stuff|money|cash|gift|gifts|present|presents|"
                        "clothes|phone|ticket|candy|beer|alcohol|booze|lingerie|whatever)\\b"},
    {VIGIL_STAGE_GIFTS, "\\bbuy " YOU " (?:something|anything|stuff|whatever|clothes|lingerie|a phone|a present|a gift)\\b"},
    {VIGIL_STAGE_GIFTS, "\\b(?:gift ?cards?|itunes cards?|robux|v ?bucks|steam cards?|cash ?app|venmo|paypal)\\b"},
    {VIGIL_STAGE_GIFTS, "\\b(?:pay|give) " YOU " \\$?\\d+\\b"},
    {VIGIL_STAGE_GIFTS, "\\b(?:money|present|gift|surprise) for " YOU "\\b"},

    /* Moving to another platform, or to the phone (indicators.md: snap,
     * kik, whatsapp, telegram). */
    {VIGIL_STAGE_PLATFORM, "\\b(?:text|txt|call|ring) me\\b"},
    {VIGIL_STAGE_PLATFORM, "\\b(?:whats|what is|give me|send me|can i have|can i get|ill need|need) " YOUR
                           " (?:cell|phone|number|#|cell number|phone number|num|cell phone|addy|email)\\b"},
    {VIGIL_STAGE_PLATFORM, "\\bmy (?:cell|number|phone number|cell number|num|cell phone|#) (?:is|iz)\\b"},
    {VIGIL_STAGE_PLATFORM, "\\b(?:add|message|msg|hit|dm|find|follow) me (?:up )?on\\b"},
    {VIGIL_STAGE_PLATFORM, "\\b(?:on|my|" YOUR "|got|have|use|add me on|do " YOU " have) " APP "\\b"},
    {VIGIL_STAGE_PLATFORM, "\\b(?:snapchat|kik|whatsapp|telegram|wickr)\\b"},
    {VIGIL_STAGE_PLATFORM, "\\b(?:can|could|should|let me|ill|i will|i can|i could|do) (?:i|we|u|you)? ?(?:call|phone|text) "
                           "(?:you|u|ya)\\b"},

    /* Arranging to meet (O'Connell 2003: meeting requests; ChatCoder2
     * approach: meeting, location). */
    {VIGIL_STAGE_MEET, "\\b(?:wanna|want to|would " YOU " like to|can we|could we|lets|should we|when can we|where can we|"
                       "gonna|going to|we could|we should|i want to|id like to|i would like to|will " YOU "|wud " YOU
                       "|would " YOU "|do " YOU " wanna|do " YOU " want to|we can|we will|we gonna|i wanna|i can) "
                       "(?:meet|hook up|hookup|hang out|get together|see each other|see " YOU ")\\b"},
    {VIGIL_STAGE_MEET, "\\bmeet (?:me|up|somewhere|in person|at my|at the)\\b"},
    {VIGIL_STAGE_MEET, "\\b(?:come|cum) (?:over|see me|visit me|to my (?:place|house|apartment|hotel|room|car))\\b"},
    {VIGIL_STAGE_MEET, "\\b(?:pick|pik) (?:you|u|ya) up\\b"},
    {VIGIL_STAGE_MEET, "\\b(?:i can|ill|i will|i could|i would|id|can i|could i|should i) (?:come|drive|be) "
                       "(?:over|there|to " YOUR " (?:place|house|town|city))\\b"},
    {VIGIL_STAGE_MEET, "\\b(?:drive|come) (?:down |up |over )?(?:to " YOU "|to see " YOU "|to " YOUR ")\\b"},
    {VIGIL_STAGE_MEET, "\\b(?:in person|irl)\\b"},
    {VIGIL_STAGE_MEET, "\\b(?:motel|hotel) room\\b"},
    {VIGIL_STAGE_MEET, "\\b(?:whats|what is|give me|send me) " YOUR " (?:address|addy)\\b"},
    {VIGIL_STAGE_MEET, "\\bwhere (?:should|can|do|will|would|could) (?:we|i) meet\\b"},
    {VIGIL_STAGE_MEET, "\\b(?:spend|stay) the night\\b"},
    {VIGIL_STAGE_MEET, "\\bwhen (?:can|could|will|do) (?:i|we) see " YOU "\\b"},

    {VIGIL_STAGE_MEET, "\\b(?:come|get|go) (?:to|over to) my (?:hotel|motel|place|house|apartment|apt|room)\\b"},
    {VIGIL_STAGE_MEET, "\\b(?:ill|i will|gonna|i can) see " YOU " (?:in an hour|in a bit|soon|tomorrow|tonight|there|at)\\b"},

    /* Talk of the age difference: the adult probing whether the child
     * accepts it (ChatCoder2 approach; Lorenzo-Dus et al. trust). */
    {VIGIL_STAGE_AGE_GAP, "\\b(?:older|younger) (?:guys|guy|men|man|women|woman|girls|girl|boys|boy|dudes|people)\\b"},
    {VIGIL_STAGE_AGE_GAP, "\\b(?:older|younger) (?:than|then) (?:you|u|ya|me)\\b"},
    {VIGIL_STAGE_AGE_GAP, "\\b(?:girls|girl|boys|boy|kids|someone|people|guys) " YOUR " age\\b"},
    {VIGIL_STAGE_AGE_GAP, "\\b(?:care|mind|bother|bothers|matter|matters|problem|ok|okay|cool|fine|worried)"
                          " (?:about |with |that |by |if )?(?:my|the|our) age\\b"},
    {VIGIL_STAGE_AGE_GAP, "\\bage (?:is )?(?:just|only) a (?:number|#)\\b"},
    {VIGIL_STAGE_AGE_GAP, "\\bage (?:doesnt|dont|does not|do not|shouldnt|wont) matter\\b"},
    {VIGIL_STAGE_AGE_GAP, "\\bmy age (?:bother|bothers|scare|scares|matter|matters|problem)\\b"},
    {VIGIL_STAGE_AGE_GAP, "\\b(?:too|to|2) (?:old|young) for (?:you|u|me)\\b"},
    {VIGIL_STAGE_AGE_GAP, "\\b(?:age|ages) (?:difference|gap)\\b"},
    {VIGIL_STAGE_AGE_GAP, "\\b(?:with|date|dating|sex with) a minor\\b"},

    /* Age stated by the speaker. */
    {VIGIL__K_AGE_SELF, "\\b(?:im|i am|iam|i m) (?:only |just |almost |nearly |turning |gonna be |going to be |about |still |like |rly |really |actually |"
                        "actually only |really only )?" NUMW
                        "(?: ?(?:yrs|years|year|yr|yo|y/o|y o))?\\b"},
    {VIGIL__K_AGE_SELF, "^ ?" NUMW " (?:almost|nearly|going on|turning|goin on) " NUMW "\\b"},
    {VIGIL__K_AGE_SELF, "\\b(?:hate|love|like|sucks|sux|me|of me|about) (?:bein|being) " NUMW "\\b"},
    {VIGIL__K_AGE_SELF, "^ ?(?:bein|being) " NUMW " (?:sucks|sux|is|dont|doesnt)\\b"},
    {VIGIL__K_AGE_SELF, "<-+ ?" NUMW "\\b"},
    {VIGIL__K_AGE_SELF, "^ ?" NUMW " (?:how old|wbu|hbu|and (?:you|u)|freshman|sophomore)\\b"},
    {VIGIL__K_AGE_SELF, "\\b(?:im|i am) [a-z]+ ?, ?" NUMW " (?:from|f|m|yo|and|years|yrs)\\b"},
    {VIGIL__K_AGE_SELF, "\\b(?:ill|i will|im gonna|i wil) be " NUMW " (?:on|in|next|this|tomorrow|soon|tmrw|2morrow)\\b"},
    {VIGIL__K_AGE_SELF, "^ ?" NUMW " ?(?:/|,|\\.|-)? ?(?:m|f|male|female)\\b"},
    {VIGIL__K_AGE_SELF, "^ ?" NUMW " ?(?:yo|y/o|yrs|years old|year old|yrs old|yr old)\\b"},
    {VIGIL__K_AGE_SELF, "\\b" NUMW " ?/ ?(?:m|f)\\b"},
    {VIGIL__K_AGE_SELF, "\\b(?:m|f) ?/ ?" NUMW "\\b"},
    {VIGIL__K_AGE_SELF, "\\bmy age is " NUMW "\\b"},
    {VIGIL__K_AGE_SELF, "\\bi (?:just )?turned " NUMW "\\b"},
    {VIGIL__K_GRADE_SELF, "\\b(?:im|i am|iam|am|in|into|starting|start|goin|going|gonna be) (?:the |a |an )?" ORD
                          " ?grade(?:r)?\\b"},
    {VIGIL__K_GRADE_SELF, "\\b(?:im|i am|iam) (?:a |an )?" ORD " ?grader\\b"},
    {VIGIL__K_MINOR_SELF, "\\b(?:im|i am|iam) (?:a |an |only a |just a |still a )?(?:minor|underage|under age|kid|little girl|"
                          "little boy|young girl|young teen|preteen|tween)\\b"},
    {VIGIL__K_MINOR_SELF, "\\b(?:im|i am|iam) (?:in|at|still in|a) (?:middle school|junior high|jr high|elementary|"
                          "high school|hs|jhs)\\b"},
    {VIGIL__K_MINOR_SELF, "\\bmy (?:middle school|junior high|jr high)\\b"},
    {VIGIL__K_MINOR_SELF, "\\b(?:im|i am|iam) (?:not|nt) (?:18|eighteen|an adult|old enough|legal)\\b"},

    /* Age of the other participant, stated by the speaker. */
    {VIGIL__K_AGE_OTHER, "\\b(?:" YOURE "|since (?:u|you|ur|youre)|cause (?:u|ur|youre)|cuz (?:u|ur|youre)) "
                         "(?:only |just |so |barely |still )?" NUMW "\\b"},
    {VIGIL__K_MINOR_OTHER, "\\b(?:youre|ur|you are|u r|u are) (?:way |much |so |a little |a bit |kinda )?too young\\b"},
    {VIGIL__K_MINOR_OTHER, "\\b(?:jailbait|jail bait)\\b"},
    {VIGIL__K_MINOR_OTHER, "\\bwhen (?:youre|ur|you are|u r|u turn|you turn|u get|you get) (?:18|eighteen|older|legal)\\b"},
    {VIGIL__K_MINOR_OTHER, "\\b(?:youre|ur|you are|u r|u are) (?:not|nt) (?:18|eighteen|legal|old enough)\\b"},

    /* Youth cues: a child's everyday life. */
    {VIGIL__K_YOUTH_CUE, "\\bmy (?:mom|mommy|mum|dad|daddy|parents|stepdad|stepmom|step dad|step mom|teacher|teachers|"
                         "babysitter|big sister|big brother|little sister|little brother)\\b"},
    {VIGIL__K_YOUTH_CUE, "\\b(?:homework|home work|recess|grounded|curfew|school bus|summer camp|babysitter|middle school|"
                         "junior high|study hall|detention|report card|sleepover|slumber party)\\b"},
    {VIGIL__K_YOUTH_CUE, "\\b(?:at|from|after|to|in|for|skip|skipped|go to|back to) (?:school|skool|skul)\\b"},
    {VIGIL__K_YOUTH_CUE, "\\b(?:mom|mommy|momma|mum|parents|stepdad|stepmom|grandma|skool|skul|teacher|braces|"
                         "pjs|sleepover|allowance|chores)\\b"},
};

const size_t vigil__convo_nrules = sizeof vigil__convo_rules / sizeof vigil__convo_rules[0];

struct vigil__cmatcher {
  hs_database_t *db;
  hs_scratch_t *scratch;
};

int vigil__cmatcher_new(vigil__cmatcher **out, vigil_error *err) {
  *out = NULL;
  size_t n = vigil__convo_nrules;
  const char **pats = vigil__mallocarray(n, sizeof *pats);
  unsigned *flags = vigil__mallocarray(n, sizeof *flags);
  unsigned *ids = vigil__mallocarray(n, sizeof *ids);
  vigil__cmatcher *m = calloc(1, sizeof *m);
  int rc = VIGIL_OK;
  if (!pats || !flags || !ids || !m) {
    rc = vigil__seterr(err, VIGIL_ENOMEM, "convo: out of memory compiling patterns");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    pats[i] = vigil__convo_rules[i].pattern;
    flags[i] = HS_FLAG_SOM_LEFTMOST;
    ids[i] = (unsigned)i;
  }
  hs_compile_error_t *ce = NULL;
  if (hs_compile_multi(pats, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &m->db, &ce) != HS_SUCCESS) {
    rc = vigil__seterr(err, VIGIL_EINTERNAL, "convo: rule %d does not compile: %s", ce ? ce->expression : -1,
                       ce ? ce->message : "unknown error");
    hs_free_compile_error(ce);
    goto done;
  }
  if (hs_alloc_scratch(m->db, &m->scratch) != HS_SUCCESS) {
    rc = vigil__seterr(err, VIGIL_ENOMEM, "convo: cannot allocate pattern scratch space");
    goto done;
  }
  *out = m;
  m = NULL;
done:
  free(pats);
  free(flags);
  free(ids);
  vigil__cmatcher_free(m);
  return rc;
}

void vigil__cmatcher_free(vigil__cmatcher *m) {
  if (!m) return;
  hs_free_scratch(m->scratch);
  hs_free_database(m->db);
  free(m);
}

typedef struct scan_ctx {
  vigil__chits *hits;
  const char *text;
  size_t len;
} scan_ctx;

static int grade_ok(const char *t, size_t s) {
  /* "when i was in 8th grade" speaks of the past. */
  size_t from = s > 12 ? s - 12 : 0;
  for (size_t i = from; i + 3 <= s; i++)
    if (!memcmp(t + i, "was", 3) || (i + 4 <= s && !memcmp(t + i, "used", 4))) return 0;
  return 1;
}

/* "til im 30", "when im 18": a future age, not the speaker's. */
static int future_ok(const char *t, size_t s) {
  static const char *const before[] = {"til ", "till ", "until ", "untill ", "when ", "once ", "before ", "after ",
                                       "unless ", "if ", "til ", "b4 ", "by the time "};
  for (size_t i = 0; i < sizeof before / sizeof before[0]; i++) {
    size_t n = strlen(before[i]);
    if (s >= n && !memcmp(t + s - n, before[i], n) && (s == n || t[s - n - 1] == ' ')) return 0;
  }
  return 1;
}

/* A youth cue is about the speaker's own life: "where is ur mom", "his
 * school" are about somebody else (often the adult probing the child's
 * parents, which must not make the adult look young). */
static int own_life(const char *t, size_t s) {
  static const char *const other[] = {"your ", "ur ", "yur ", "yr ", "ya ", "his ", "her ", "their ", "the ", "ure "};
  for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
    size_t n = strlen(other[i]);
    if (s >= n && !memcmp(t + s - n, other[i], n) && (s == n || t[s - n - 1] == ' ')) return 0;
  }
  return 1;
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *vctx) {
  (void)flags;
  scan_ctx *c = vctx;
  int kind = vigil__convo_rules[id].kind;
  if (c->hits->mask & (1u << kind)) return 0;
  size_t s = (size_t)from, e = (size_t)to;
  if (kind == VIGIL__K_AGE_SELF || kind == VIGIL__K_AGE_OTHER) {
    int age = vigil__convo_span_age(c->text, c->len, s, e);
    if (age < 9 || age > 90 || !future_ok(c->text, s)) return 0;
    if (kind == VIGIL__K_AGE_SELF) c->hits->age_self = age;
    else c->hits->age_other = age;
  } else if (kind == VIGIL__K_YOUTH_CUE && !own_life(c->text, s)) {
    return 0;
  } else if (kind == VIGIL__K_GRADE_SELF) {
    int g = vigil__convo_span_age(c->text, c->len, s, e);
    if (g < 1 || g > 12 || !grade_ok(c->text, s)) return 0;
    if (!(c->hits->mask & (1u << VIGIL__K_AGE_SELF))) c->hits->age_self = g + 5;
  }
  c->hits->mask |= 1u << kind;
  c->hits->start[kind] = s;
  c->hits->end[kind] = e;
  return 0;
}

int vigil__cmatcher_scan(vigil__cmatcher *m, const char *text, size_t len, vigil__chits *hits, vigil_error *err) {
  memset(hits, 0, sizeof *hits);
  hits->age_self = hits->age_other = -1;
  if (len == 0) return VIGIL_OK;
  scan_ctx c = {hits, text, len};
  hs_error_t r = hs_scan(m->db, text, (unsigned)len, 0, m->scratch, on_match, &c);
  if (r != HS_SUCCESS) return vigil__seterr(err, VIGIL_EINTERNAL, "convo: pattern scan failed (%d)", (int)r);
  return VIGIL_OK;
}
