/* One pass over a JSONL file of xAPI statements: which lines have the common shape of an
 * app's statement, and the typed facts of those (analytics/services/statement_lines.py reads
 * a file with it, analytics/services/bulk.py stores what it read; it replaced a regular
 * expression, DuckDB's JSON reader and SQL: three passes, about 120,000 statements a second).
 *
 * The common shape is the one bulk.py's notes describe: an Agent (account or mbox), a verb,
 * an Activity (its definition optional), a result, a context (its context activities and
 * extensions of any JSON too), a timestamp; only those keys, each value of its JSON type and
 * form. A line of that shape is "fast" when it also passes the
 * checks a grammar cannot state (required parts, one identifier, score ranges, real dates,
 * keys given once). Every other line is "other" and the full Python validator decides it and
 * names what it breaks. So this code only ever says yes to lines the validator accepts, and
 * says "other" whenever in doubt (escapes in a value it would have to decode, non-ASCII in a
 * mailbox it would have to lower-case, numbers beyond a double's exactness, ...): being
 * stricter costs speed on rare lines, never correctness.
 *
 * Untrusted input: every read is bounded by the line's end; recursion only inside an
 * extension's value, to DEPTH_MAX; output buffers grow by checked sizes. Fuzzed under
 * AddressSanitizer and UBSan by the suite (tests/analytics/test_xapi_scan_fuzz.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef const unsigned char *Ptr;

/* --- growable byte buffers ------------------------------------------------------------ */

/* The output of a large file is hundreds of megabytes of fresh memory: on Linux it is mapped
 * in huge pages where the kernel allows (far fewer page faults: measured 52,000 faults and a
 * third of the reading time for 200,000 lines in 4 KB pages), grown in place, and handed to
 * Python as is (Block), never copied. */
typedef struct {
    unsigned char *p;
    size_t len, cap;
} Buf;

#ifdef __linux__
#include <sys/mman.h>
#define HUGE_PAGE ((size_t)2 << 20)

static unsigned char *region_grow(unsigned char *p, size_t old_size, size_t size) {
    void *grown = p ? mremap(p, old_size, size, MREMAP_MAYMOVE)
                    : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (grown == MAP_FAILED)
        return NULL;
    if (size >= HUGE_PAGE)
        madvise(grown, size, MADV_HUGEPAGE); /* advice only: its failure changes nothing */
    return grown;
}

static void region_free(unsigned char *p, size_t size) {
    if (p)
        munmap(p, size);
}
#else
static unsigned char *region_grow(unsigned char *p, size_t old_size, size_t size) {
    (void)old_size;
    return realloc(p, size);
}

static void region_free(unsigned char *p, size_t size) {
    (void)size;
    free(p);
}
#endif

static int buf_reserve(Buf *b, size_t extra) {
    if (b->len + extra <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + extra) {
        if (cap > SIZE_MAX / 2)
            return 0;
        cap *= 2;
    }
    unsigned char *p = region_grow(b->p, b->cap, cap);
    if (!p)
        return 0;
    b->p = p;
    b->cap = cap;
    return 1;
}

static void buf_free(Buf *b) {
    region_free(b->p, b->cap);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int buf_put(Buf *b, const void *p, size_t n) {
    if (!buf_reserve(b, n))
        return 0;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return 1;
}

/* --- the output: per line (start, end, status) and per fast line the facts ------------- */

enum { LINE_BLANK = 0, LINE_FAST = 1, LINE_OTHER = 2, LINE_NOT_UTF8 = 3 };

/* String columns (Arrow large_string: validity bits, int64 offsets, data). */
enum {
    S_ID, S_ACTOR_KEY, S_LEARNER_ID, S_VERB_ID, S_OBJECT_ID, S_ACTIVITY_NAME, S_UNIT_CODE,
    S_REGISTRATION, S_ACTOR_NAME, S_DEFINITION, S_COUNT
};
static const char *const STRING_NAMES[S_COUNT] = {
    "id", "actor_key", "learner_id", "verb_id", "object_id", "activity_name", "unit_code",
    "registration", "actor_name", "definition"};
/* Fixed-width columns: int64 microseconds, doubles, and booleans as bits. */
enum { F_TS, F_SCORE_SCALED, F_DURATION_S, F_SUCCESS, F_COMPLETION, F_COUNT };
static const char *const FIXED_NAMES[F_COUNT] = {"ts", "score_scaled", "duration_s", "success", "completion"};

typedef struct {
    Buf data, offsets, valid;
} StrCol;

typedef struct {
    Buf values, valid;
} FixCol;

typedef struct {
    Buf starts, ends, status; /* per line of the range */
    int64_t rows;             /* fast lines */
    StrCol s[S_COUNT];
    FixCol f[F_COUNT];
} Out;

static int bit_put(Buf *bits, int64_t row, int on) {
    size_t byte = (size_t)(row >> 3);
    if (byte >= bits->len) {
        if (!buf_reserve(bits, 1))
            return 0;
        bits->p[bits->len++] = 0;
    }
    if (on)
        bits->p[byte] |= (unsigned char)(1u << (row & 7));
    return 1;
}

/* --- the values of one line, as spans into it ------------------------------------------ */

typedef struct {
    Ptr p;
    size_t n;
} Span; /* a string's content (between its quotes), p == NULL when absent */

#define PRESENT(s) ((s).p != NULL)

typedef struct {
    Span id, actor_name, mbox, home_page, account_name, verb_id, object_id, definition;
    Span activity_name, unit_code_definition, unit_code_context, registration, timestamp, duration;
    int has_account;
    int has_scaled, has_raw, has_min, has_max;
    double scaled, raw, min, max;
    int success, completion; /* -1 absent, else 0/1 */
} Line;

typedef struct {
    Ptr c, end;
} Cur;

#define NEED(x)           \
    do {                  \
        if (!(x))         \
            return 0;     \
    } while (0)

static void ws(Cur *k) {
    while (k->c < k->end && (*k->c == ' ' || *k->c == '\t' || *k->c == '\r'))
        k->c++;
}

static int is_digit(unsigned char b) { return b >= '0' && b <= '9'; }
static int is_alpha(unsigned char b) { return (b | 0x20) >= 'a' && (b | 0x20) <= 'z'; }
static int is_hex(unsigned char b) { return is_digit(b) || ((b | 0x20) >= 'a' && (b | 0x20) <= 'f'); }

/* One strictly valid UTF-8 character of 2 to 4 bytes at p (p[0] >= 0x80): its length and
 * code point, or 0 (overlong forms, surrogates and values past U+10FFFF are not UTF-8). */
static int utf8_char(Ptr p, Ptr end, uint32_t *cp) {
    unsigned char b = p[0];
    int len;
    uint32_t value;
    unsigned char low = 0x80, high = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
        len = 2;
        value = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        value = b & 0x0F;
        if (b == 0xE0)
            low = 0xA0;
        if (b == 0xED)
            high = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        value = b & 0x07;
        if (b == 0xF0)
            low = 0x90;
        if (b == 0xF4)
            high = 0x8F;
    } else {
        return 0;
    }
    if (end - p < len)
        return 0;
    for (int i = 1; i < len; i++) {
        unsigned char c = p[i];
        if (c < (i == 1 ? low : 0x80) || c > (i == 1 ? high : 0xBF))
            return 0;
        value = (value << 6) | (c & 0x3F);
    }
    if (cp)
        *cp = value;
    return len;
}

static int valid_utf8(Ptr p, Ptr end) {
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        int len = utf8_char(p, end, NULL);
        if (!len)
            return 0;
        p += len;
    }
    return 1;
}

/* Unicode white space, as the validator's \s sees it (Python's str.isspace beyond ASCII). */
static int unicode_space(uint32_t cp) {
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* Eight bytes at a time (SWAR): whether any byte of w is below n (n <= 128), is b, or is not
 * ASCII. Exact about "none"; "some" may be wrong only past a byte that is one, which the
 * byte-wise path after it then reads. */
#define ONES ((uint64_t)0x0101010101010101ULL)
#define HIGHS ((uint64_t)0x8080808080808080ULL)
#define ANY_BELOW(w, n) (((w) - ONES * (n)) & ~(w) & HIGHS)
#define ANY_IS(w, b) ANY_BELOW((w) ^ (ONES * (b)), 1)

static uint64_t word_at(Ptr p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* Past the plain string content at p (no quote, backslash, control character or byte of a
 * longer UTF-8 character), eight bytes at a time: the first byte that is not plain, or a
 * place fewer than eight bytes before the end. */
static Ptr skip_plain(Ptr p, Ptr end) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t w = word_at(p);
        uint64_t found = ANY_IS(w, '"') | ANY_IS(w, '\\') | ANY_BELOW(w, 0x20) | (w & HIGHS);
        if (found) /* the lowest flag is exact: the first byte in memory order */
            return p + (__builtin_ctzll(found) >> 3);
        p += 8;
    }
#else
    (void)end;
#endif
    return p;
}

/* A JSON string: its content in *out and whether it holds an escape (*escaped). */
static int json_string(Cur *k, Span *out, int *escaped) {
    Ptr c = k->c, end = k->end;
    NEED(c < end && *c == '"');
    Ptr start = ++c;
    int escapes = 0;
    while (c < end) {
        c = skip_plain(c, end);
        if (c >= end)
            break;
        unsigned char b = *c;
        if (b == '"') {
            out->p = start;
            out->n = (size_t)(c - start);
            *escaped = escapes;
            k->c = c + 1;
            return 1;
        }
        if (b < 0x20)
            return 0;
        if (b == '\\') {
            escapes = 1;
            NEED(c + 1 < end);
            unsigned char x = c[1];
            if (x == 'u') {
                NEED(end - c >= 6 && is_hex(c[2]) && is_hex(c[3]) && is_hex(c[4]) && is_hex(c[5]));
                c += 6;
            } else {
                NEED(x == '"' || x == '\\' || x == '/' || x == 'b' || x == 'f' || x == 'n' || x == 'r' || x == 't');
                c += 2;
            }
        } else if (b < 0x80) {
            c++;
        } else {
            int len = utf8_char(c, end, NULL);
            NEED(len);
            c += len;
        }
    }
    return 0;
}

/* A string whose value is kept or checked: without escapes (a line with one takes the
 * validator's path, which decodes it). */
static int plain_string(Cur *k, Span *out) {
    int escaped;
    NEED(json_string(k, out, &escaped));
    return !escaped;
}

static int string_is(Cur *k, const char *expected) {
    Span s;
    NEED(plain_string(k, &s));
    return s.n == strlen(expected) && memcmp(s.p, expected, s.n) == 0;
}

#ifdef __GLIBC__
static locale_t c_numbers;
#endif

/* The double nearest the decimal number in [start, end) (already checked to be a JSON number
 * or a duration's figure). Up to 15 digits and a power of ten up to 22 either way, one
 * multiplication or division of two exact doubles rounds once, so is the nearest (Clinger's
 * fast path); else the C library's strtod in the "C" locale. */
static double decimal_value(Ptr start, Ptr end) {
    static const double powers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    Ptr p = start;
    int negative = p < end && *p == '-', digits = 0, fraction = 0;
    uint64_t mantissa = 0;
    long exponent = 0;
    p += negative;
    for (; p < end && is_digit(*p); p++, digits++)
        mantissa = digits < 19 ? mantissa * 10 + (uint64_t)(*p - '0') : mantissa;
    if (p < end && *p == '.')
        for (p++; p < end && is_digit(*p); p++, digits++, fraction++)
            mantissa = digits < 19 ? mantissa * 10 + (uint64_t)(*p - '0') : mantissa;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int sign = (p < end && *p == '-') ? -1 : 1;
        p += (p < end && (*p == '-' || *p == '+'));
        for (; p < end && is_digit(*p); p++)
            exponent = exponent < 100000 ? exponent * 10 + (*p - '0') : exponent;
        exponent *= sign;
    }
    exponent -= fraction;
    if (digits <= 15 && exponent >= -22 && exponent <= 22) {
        double value = (double)mantissa;
        value = exponent < 0 ? value / powers[-exponent] : value * powers[exponent];
        return negative ? -value : value;
    }
    char text[48];
    size_t length = (size_t)(end - start) < sizeof text - 1 ? (size_t)(end - start) : sizeof text - 1;
    memcpy(text, start, length);
    text[length] = 0;
#ifdef __GLIBC__
    return strtod_l(text, NULL, c_numbers);
#else
    return strtod(text, NULL);
#endif
}

/* A JSON number's form, whatever its size (an extension's value: the validator compares none). */
static int number_form(Cur *k) {
    Ptr c = k->c, end = k->end;
    if (c < end && *c == '-')
        c++;
    NEED(c < end && is_digit(*c));
    if (*c == '0')
        c++;
    else
        while (c < end && is_digit(*c))
            c++;
    if (c < end && *c == '.') {
        c++;
        NEED(c < end && is_digit(*c));
        while (c < end && is_digit(*c))
            c++;
    }
    if (c < end && (*c == 'e' || *c == 'E')) {
        c++;
        if (c < end && (*c == '+' || *c == '-'))
            c++;
        NEED(c < end && is_digit(*c));
        while (c < end && is_digit(*c))
            c++;
    }
    k->c = c;
    return 1;
}

/* A JSON number as a double. Past 15 significant digits the validator (Python ints and
 * floats, compared exactly) may judge differently from doubles: the line takes its path. */
static int json_number(Cur *k, double *out) {
    Ptr start = k->c;
    NEED(number_form(k));
    int digits = 0;
    for (Ptr p = start; p < k->c && *p != 'e' && *p != 'E'; p++)
        digits += is_digit(*p);
    NEED(digits <= 15 && k->c - start < 40);
    double value = decimal_value(start, k->c);
    NEED(isfinite(value));
    *out = value;
    return 1;
}

static int json_boolean(Cur *k, int *out) {
    if (k->end - k->c >= 4 && memcmp(k->c, "true", 4) == 0) {
        *out = 1;
        k->c += 4;
        return 1;
    }
    if (k->end - k->c >= 5 && memcmp(k->c, "false", 5) == 0) {
        *out = 0;
        k->c += 5;
        return 1;
    }
    return 0;
}

/* --- objects ------------------------------------------------------------------------------ */

/* At an object: steps in. 1 when a member follows, 2 when the object was empty (and is
 * closed), 0 else. Objects that need members say so after (required keys). */
static int object_open(Cur *k) {
    ws(k);
    NEED(k->c < k->end && *k->c == '{');
    k->c++;
    ws(k);
    NEED(k->c < k->end);
    if (*k->c == '}') {
        k->c++;
        return 2;
    }
    return *k->c == '"';
}

/* After a member's value: 1 when another member follows, 2 when the object closed, 0 else. */
static int object_next(Cur *k) {
    ws(k);
    NEED(k->c < k->end);
    if (*k->c == '}') {
        k->c++;
        return 2;
    }
    NEED(*k->c == ',');
    k->c++;
    ws(k);
    return k->c < k->end && *k->c == '"';
}

/* A member's key and its colon; the cursor left at the value. */
static int member_key(Cur *k, Span *key) {
    NEED(plain_string(k, key));
    ws(k);
    NEED(k->c < k->end && *k->c == ':');
    k->c++;
    ws(k);
    return 1;
}

/* Which of `names` the key is (-1: none); each may be given once (seen: a bit per name). */
static int known_key(Span key, const char *const *names, int count, unsigned *seen) {
    for (int i = 0; i < count; i++) {
        const char *name = names[i];
        /* (strncmp stops at the name's end: a longer key differs there, keys hold no NUL) */
        if (key.n && name[0] == (char)key.p[0] && strncmp(name, (const char *)key.p, key.n) == 0 && !name[key.n]) {
            if (*seen & (1u << i))
                return -1;
            *seen |= 1u << i;
            return i;
        }
    }
    return -1;
}

/* Going through the members of an object whose keys are among `keys`, each given at most once:
 * `while ((index = next_member(k, &m)) >= 0) switch (index) {...}` reads each member's value,
 * then NEED(index == MEMBERS_END). */
typedef struct {
    const char *const *keys;
    int count;
    unsigned seen; /* a bit per key met */
    int more;      /* 0 before the object is opened, then what object_open/object_next said */
} Members;

#define MEMBERS(names) {names, (int)(sizeof(names) / sizeof(names[0])), 0, 0}
enum { MEMBERS_END = -1, MEMBERS_BAD = -2 };

/* The place in m->keys of the next member's key, the cursor left at its value; MEMBERS_END
 * once the object closed; MEMBERS_BAD when it is malformed or a key is unknown or repeated. */
static int next_member(Cur *k, Members *m) {
    m->more = m->more ? object_next(k) : object_open(k);
    if (m->more == 2)
        return MEMBERS_END;
    Span key;
    if (m->more != 1 || !member_key(k, &key))
        return MEMBERS_BAD;
    int index = known_key(key, m->keys, m->count, &m->seen);
    return index < 0 ? MEMBERS_BAD : index;
}

/* --- forms of values ------------------------------------------------------------------------ */

/* An IRI as the validator takes it: a scheme, a colon, then no white space. */
static int is_iri(Span s) {
    Ptr p = s.p, end = s.p + s.n;
    NEED(p < end && is_alpha(*p));
    p++;
    while (p < end && (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '.' || *p == '-'))
        p++;
    NEED(p < end && *p == ':');
    p++;
    NEED(p < end);
    while (p < end) {
        while (end - p >= 8 && !(ANY_BELOW(word_at(p), 0x21) | (word_at(p) & HIGHS)))
            p += 8; /* eight ASCII characters, none white space (nor control) */
        if (p >= end)
            break;
        if (*p < 0x80) {
            NEED(*p != ' ' && !(*p >= 0x09 && *p <= 0x0D) && !(*p >= 0x1C && *p <= 0x1F));
            p++;
        } else {
            uint32_t cp;
            int len = utf8_char(p, end, &cp);
            NEED(len && !unicode_space(cp));
            p += len;
        }
    }
    return 1;
}

static int iri(Cur *k, Span *out) {
    NEED(plain_string(k, out));
    return is_iri(*out);
}

static int is_uuid(Span s) {
    NEED(s.n == 36);
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            NEED(s.p[i] == '-');
        } else {
            NEED(is_hex(s.p[i]));
        }
    }
    return 1;
}

static int is_tag(Span s) {
    size_t i = 0, run = 0;
    while (i < s.n && is_alpha(s.p[i]) && run < 8) {
        i++;
        run++;
    }
    NEED(run >= 1);
    while (i < s.n) {
        NEED(s.p[i] == '-');
        i++;
        run = 0;
        while (i < s.n && (is_alpha(s.p[i]) || is_digit(s.p[i])) && run < 8) {
            i++;
            run++;
        }
        NEED(run >= 1);
    }
    return 1;
}

/* mailto:local@domain, ASCII only (its key is lower-cased here, as the validator's path does
 * for any letters: beyond ASCII that takes Unicode's rules, so such a line takes its path). */
static int is_mbox(Span s) {
    NEED(s.n > 7 && memcmp(s.p, "mailto:", 7) == 0);
    size_t at = 0, ats = 0;
    for (size_t i = 7; i < s.n; i++) {
        unsigned char b = s.p[i];
        NEED(b < 0x80 && b != ' ' && !(b >= 0x09 && b <= 0x0D) && !(b >= 0x1C && b <= 0x1F));
        if (b == '@') {
            at = i;
            ats++;
        }
    }
    return ats == 1 && at > 7 && at < s.n - 1;
}

static int digits_at(Ptr p, int n, int *value) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        NEED(is_digit(p[i]));
        v = v * 10 + (p[i] - '0');
    }
    *value = v;
    return 1;
}

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* YYYY-MM-DDThh:mm[:ss[.ffffff]](Z|±hh:mm), a real moment: microseconds since the epoch. */
static int timestamp_us(Span s, int64_t *out) {
    Ptr p = s.p;
    size_t n = s.n;
    int year, month, day, hour, minute, second = 0, micros = 0, off_h = 0, off_m = 0, sign = 0;
    NEED(n >= 17 && p[4] == '-' && p[7] == '-' && p[10] == 'T' && p[13] == ':');
    NEED(digits_at(p, 4, &year) && digits_at(p + 5, 2, &month) && digits_at(p + 8, 2, &day));
    NEED(digits_at(p + 11, 2, &hour) && digits_at(p + 14, 2, &minute));
    size_t i = 16;
    if (i < n && p[i] == ':') {
        NEED(n >= i + 3 && digits_at(p + i + 1, 2, &second));
        i += 3;
        if (i < n && p[i] == '.') {
            i++;
            int figures = 0;
            while (i < n && is_digit(p[i]) && figures < 6) {
                micros = micros * 10 + (p[i] - '0');
                i++;
                figures++;
            }
            NEED(figures >= 1);
            for (int f = figures; f < 6; f++)
                micros *= 10;
        }
    }
    NEED(i < n);
    if (p[i] == 'Z') {
        NEED(i + 1 == n);
    } else {
        NEED(p[i] == '+' || p[i] == '-');
        sign = p[i] == '-' ? -1 : 1;
        NEED(n == i + 6 && p[i + 3] == ':' && digits_at(p + i + 1, 2, &off_h) && digits_at(p + i + 4, 2, &off_m));
        NEED(off_h <= 23 && off_m <= 59);
        NEED(!(sign < 0 && off_h == 0 && off_m == 0)); /* -00:00: the spec forbids it */
    }
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    NEED(year >= 1 && month >= 1 && month <= 12 && day >= 1);
    NEED(day <= month_days[month - 1] + (month == 2 && leap));
    NEED(hour <= 23 && minute <= 59 && second <= 59);
    int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    seconds -= (int64_t)sign * (off_h * 3600 + off_m * 60);
    *out = seconds * 1000000 + micros;
    return 1;
}

/* A figure of a duration ([0-9]+(.[0-9]+)?) as a double. */
static int duration_figure(Ptr *pp, Ptr end, double *value) {
    Ptr p = *pp, start = p;
    NEED(p < end && is_digit(*p));
    while (p < end && is_digit(*p))
        p++;
    if (p < end && *p == '.') {
        p++;
        NEED(p < end && is_digit(*p));
        while (p < end && is_digit(*p))
            p++;
    }
    NEED(p - start < 40);
    *value = decimal_value(start, p);
    *pp = p;
    return 1;
}

/* The figures of one half of a duration (date or time), each with its unit in the order
 * `units` names them, up to `stop` (or the end), added to *total: how many, or -1. */
static int duration_half(Ptr *pp, Ptr end, unsigned char stop, const char *units, const double *seconds,
                         double *total) {
    Ptr p = *pp;
    int parts = 0;
    for (int unit = 0; unit < 3 && p < end && *p != stop;) {
        double figure;
        if (!duration_figure(&p, end, &figure) || p >= end)
            return -1;
        while (unit < 3 && *p != units[unit])
            unit++;
        if (unit == 3)
            return -1;
        *total += figure * seconds[unit];
        p++;
        unit++;
        parts++;
    }
    *pp = p;
    return parts;
}

/* PnYnMnDTnHnMnS (weeks take the validator's path) in seconds, a year 365 days and a month
 * 30, summed in the order lrs.duration_seconds sums them (so the same double). */
static int duration_seconds(Span s, double *out) {
    static const double date_seconds[] = {31536000.0, 2592000.0, 86400.0};
    static const double time_seconds[] = {3600.0, 60.0, 1.0};
    Ptr p = s.p, end = s.p + s.n;
    double total = 0;
    NEED(p < end && *p == 'P');
    p++;
    int parts = duration_half(&p, end, 'T', "YMD", date_seconds, &total);
    NEED(parts >= 0);
    if (p < end && *p == 'T') {
        p++;
        int time_parts = duration_half(&p, end, 0, "HMS", time_seconds, &total);
        NEED(time_parts > 0);
        parts += time_parts;
    }
    NEED(p == end && parts > 0 && isfinite(total));
    *out = total;
    return 1;
}

/* --- maps ----------------------------------------------------------------------------------- */

#define MAP_MAX 32 /* members; a larger map takes the validator's path */

typedef struct {
    Span key, value;
    int escaped, is_string;
} Member;

static int unique_keys(const Member *members, int count) {
    for (int i = 1; i < count; i++)
        for (int j = 0; j < i; j++)
            if (members[i].key.n == members[j].key.n &&
                memcmp(members[i].key.p, members[j].key.p, members[i].key.n) == 0)
                return 0;
    return 1;
}

/* A language map: language tags to strings, each tag once. */
static int language_map(Cur *k, Member *members, int *count) {
    int n = 0, more;
    NEED(more = object_open(k));
    while (more == 1) {
        NEED(n < MAP_MAX);
        Member *m = &members[n++];
        NEED(member_key(k, &m->key) && is_tag(m->key));
        NEED(json_string(k, &m->value, &m->escaped));
        m->is_string = 1;
        NEED(more = object_next(k));
    }
    *count = n;
    return unique_keys(members, n);
}

static const char CURRICULUM_EXTENSION[] = "https://manabi.city.iizuka.lg.jp/xapi/extensions/curriculum-code";

static int sixteen_digits(Span s) {
    NEED(s.n == 16);
    for (int i = 0; i < 16; i++)
        NEED(is_digit(s.p[i]));
    return 1;
}

#define DEPTH_MAX 8 /* nesting inside an extension's value; deeper takes the validator's path */

/* Any JSON value (an extension's): each object's keys given once, as the validator's parser
 * demands everywhere. */
static int any_value(Cur *k, int depth) {
    ws(k);
    NEED(k->c < k->end && depth < DEPTH_MAX);
    switch (*k->c) {
    case '"': {
        Span text;
        int escaped;
        return json_string(k, &text, &escaped);
    }
    case '{': {
        Member members[MAP_MAX];
        int n = 0, more;
        NEED(more = object_open(k));
        while (more == 1) {
            NEED(n < MAP_MAX);
            NEED(member_key(k, &members[n++].key) && any_value(k, depth + 1));
            NEED(more = object_next(k));
        }
        return unique_keys(members, n);
    }
    case '[':
        k->c++;
        ws(k);
        if (k->c < k->end && *k->c == ']') {
            k->c++;
            return 1;
        }
        for (;;) {
            NEED(any_value(k, depth + 1));
            ws(k);
            NEED(k->c < k->end && (*k->c == ',' || *k->c == ']'));
            if (*k->c++ == ']')
                return 1;
        }
    case 't':
    case 'f': {
        int ignored;
        return json_boolean(k, &ignored);
    }
    case 'n':
        NEED(k->end - k->c >= 4 && memcmp(k->c, "null", 4) == 0);
        k->c += 4;
        return 1;
    default:
        return number_form(k);
    }
}

/* Extensions: IRIs to any JSON value, each IRI once. *code: the curriculum code when the map
 * names one of 16 digits as a string. */
static int extensions(Cur *k, Span *code) {
    Member members[MAP_MAX];
    int n = 0, more;
    NEED(more = object_open(k));
    while (more == 1) {
        NEED(n < MAP_MAX);
        Member *m = &members[n++];
        NEED(member_key(k, &m->key) && is_iri(m->key));
        NEED(k->c < k->end);
        m->is_string = *k->c == '"';
        if (m->is_string) {
            NEED(json_string(k, &m->value, &m->escaped));
        } else {
            NEED(any_value(k, 0));
        }
        NEED(more = object_next(k));
    }
    NEED(unique_keys(members, n));
    for (int i = 0; i < n; i++) {
        if (members[i].key.n == sizeof CURRICULUM_EXTENSION - 1 &&
            memcmp(members[i].key.p, CURRICULUM_EXTENSION, members[i].key.n) == 0 && members[i].is_string) {
            NEED(!members[i].escaped); /* a code in escapes: the validator's path decodes it */
            if (sixteen_digits(members[i].value))
                *code = members[i].value;
        }
    }
    return 1;
}

/* --- the parts of a statement ---------------------------------------------------------------- */

static int account(Cur *k, Line *L) {
    static const char *const keys[] = {"homePage", "name"};
    Members m = MEMBERS(keys);
    int index;
    while ((index = next_member(k, &m)) >= 0) {
        switch (index) {
        case 0: NEED(iri(k, &L->home_page)); break;
        case 1: NEED(plain_string(k, &L->account_name)); break;
        }
    }
    NEED(index == MEMBERS_END);
    return m.seen == 3;
}

static int actor(Cur *k, Line *L) {
    static const char *const keys[] = {"objectType", "name", "mbox", "account"};
    Members m = MEMBERS(keys);
    int index;
    while ((index = next_member(k, &m)) >= 0) {
        switch (index) {
        case 0: NEED(string_is(k, "Agent")); break;
        case 1: NEED(plain_string(k, &L->actor_name)); break;
        case 2: NEED(plain_string(k, &L->mbox) && is_mbox(L->mbox)); break;
        case 3: NEED(account(k, L)); L->has_account = 1; break;
        }
    }
    NEED(index == MEMBERS_END);
    return PRESENT(L->mbox) != L->has_account; /* one identifier */
}

static int verb(Cur *k, Line *L) {
    static const char *const keys[] = {"id", "display"};
    static const char voided[] = "http://adlnet.gov/expapi/verbs/voided";
    Members m = MEMBERS(keys);
    int count, index;
    Member members[MAP_MAX];
    while ((index = next_member(k, &m)) >= 0) {
        switch (index) {
        case 0: NEED(iri(k, &L->verb_id)); break;
        case 1: NEED(language_map(k, members, &count)); break;
        }
    }
    NEED(index == MEMBERS_END);
    NEED(PRESENT(L->verb_id));
    /* voiding takes the validator's path */
    return !(L->verb_id.n == sizeof voided - 1 && memcmp(L->verb_id.p, voided, L->verb_id.n) == 0);
}

/* The name shown for an activity: Japanese, else English, else the first given. */
static int activity_name(const Member *names, int count, Span *out) {
    static const char *const preferred[] = {"ja", "ja-JP", "en", "en-US", "en-GB"};
    if (count == 0)
        return 1; /* no name */
    const Member *chosen = &names[0];
    for (int t = 0, found = 0; t < 5 && !found; t++)
        for (int i = 0; i < count; i++)
            if (names[i].key.n == strlen(preferred[t]) && memcmp(names[i].key.p, preferred[t], names[i].key.n) == 0) {
                chosen = &names[i];
                found = 1;
                break;
            }
    NEED(!chosen->escaped); /* kept as text: the validator's path decodes it */
    *out = chosen->value;
    return 1;
}

/* What an activity's definition says that the facts keep. */
typedef struct {
    Span name, unit_code, whole;
} Definition;

/* An activity's definition (interactions take the validator's path: their rules are many). */
static int definition(Cur *k, Definition *d) {
    static const char *const keys[] = {"name", "description", "type", "moreInfo", "extensions"};
    Members m = MEMBERS(keys);
    int count, index;
    Member members[MAP_MAX];
    Span iri_value;
    Ptr start = (ws(k), k->c);
    while ((index = next_member(k, &m)) >= 0) {
        switch (index) {
        case 0: NEED(language_map(k, members, &count) && activity_name(members, count, &d->name)); break;
        case 1: NEED(language_map(k, members, &count)); break;
        case 2:
        case 3: NEED(iri(k, &iri_value)); break;
        case 4: NEED(extensions(k, &d->unit_code)); break;
        }
    }
    NEED(index == MEMBERS_END);
    d->whole.p = start;
    d->whole.n = (size_t)(k->c - start);
    return 1;
}

static int activity(Cur *k, Line *L) {
    static const char *const keys[] = {"objectType", "id", "definition"};
    Members m = MEMBERS(keys);
    int index;
    while ((index = next_member(k, &m)) >= 0) {
        switch (index) {
        case 0: NEED(string_is(k, "Activity")); break;
        case 1: NEED(iri(k, &L->object_id)); break;
        case 2: {
            Definition d = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
            NEED(definition(k, &d));
            L->activity_name = d.name;
            L->unit_code_definition = d.unit_code;
            L->definition = d.whole;
            break;
        }
        }
    }
    NEED(index == MEMBERS_END);
    return PRESENT(L->object_id);
}

/* An activity of the context (parent, grouping, category, other): checked, not kept apart
 * (the statement's text keeps it). */
static int context_activity(Cur *k) {
    static const char *const keys[] = {"objectType", "id", "definition"};
    Members m = MEMBERS(keys);
    int index;
    Span id = {NULL, 0};
    while ((index = next_member(k, &m)) >= 0) {
        switch (index) {
        case 0: NEED(string_is(k, "Activity")); break;
        case 1: NEED(iri(k, &id)); break;
        case 2: {
            Definition ignored = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
            NEED(definition(k, &ignored));
            break;
        }
        }
    }
    NEED(index == MEMBERS_END);
    return PRESENT(id);
}

/* contextActivities: each kind an activity or an array of them. */
static int context_activities(Cur *k) {
    static const char *const keys[] = {"parent", "grouping", "category", "other"};
    Members m = MEMBERS(keys);
    int index;
    while ((index = next_member(k, &m)) >= 0) {
        NEED(k->c < k->end);
        if (*k->c == '[') {
            k->c++;
            ws(k);
            if (k->c < k->end && *k->c == ']') {
                k->c++;
            } else {
                for (;;) {
                    NEED(context_activity(k));
                    ws(k);
                    NEED(k->c < k->end && (*k->c == ',' || *k->c == ']'));
                    if (*k->c++ == ']')
                        break;
                }
            }
        } else {
            NEED(context_activity(k));
        }
    }
    return index == MEMBERS_END;
}

static int score(Cur *k, Line *L) {
    static const char *const keys[] = {"scaled", "raw", "min", "max"};
    Members m = MEMBERS(keys);
    int index;
    while ((index = next_member(k, &m)) >= 0) {
        switch (index) {
        case 0: NEED(json_number(k, &L->scaled)); L->has_scaled = 1; break;
        case 1: NEED(json_number(k, &L->raw)); L->has_raw = 1; break;
        case 2: NEED(json_number(k, &L->min)); L->has_min = 1; break;
        case 3: NEED(json_number(k, &L->max)); L->has_max = 1; break;
        }
    }
    NEED(index == MEMBERS_END);
    NEED(!L->has_scaled || (L->scaled >= -1 && L->scaled <= 1));
    NEED(!(L->has_min && L->has_max) || L->min < L->max);
    NEED(!(L->has_raw && L->has_min) || L->raw >= L->min);
    NEED(!(L->has_raw && L->has_max) || L->raw <= L->max);
    return 1;
}

static int result(Cur *k, Line *L) {
    static const char *const keys[] = {"score", "success", "completion", "duration", "response", "extensions"};
    Members m = MEMBERS(keys);
    int index;
    Span response, no_code;
    while ((index = next_member(k, &m)) >= 0) {
        int escaped;
        switch (index) {
        case 0: NEED(score(k, L)); break;
        case 1: NEED(json_boolean(k, &L->success)); break;
        case 2: NEED(json_boolean(k, &L->completion)); break;
        case 3: NEED(plain_string(k, &L->duration)); break;
        case 4: NEED(json_string(k, &response, &escaped)); break;
        case 5: NEED(extensions(k, &no_code)); break; /* a code counts only in the definition's or the context's */
        }
    }
    NEED(index == MEMBERS_END);
    return 1;
}

static int context(Cur *k, Line *L) {
    static const char *const keys[] = {"registration", "extensions", "platform", "revision", "language",
                                       "contextActivities"};
    Members m = MEMBERS(keys);
    int index;
    Span text;
    while ((index = next_member(k, &m)) >= 0) {
        int escaped;
        switch (index) {
        case 0: NEED(plain_string(k, &L->registration) && is_uuid(L->registration)); break;
        case 1: NEED(extensions(k, &L->unit_code_context)); break;
        case 2:
        case 3: NEED(json_string(k, &text, &escaped)); break;
        case 4: NEED(plain_string(k, &text) && is_tag(text)); break;
        case 5: NEED(context_activities(k)); break;
        }
    }
    NEED(index == MEMBERS_END);
    return 1;
}

static int statement(Cur *k, Line *L) {
    static const char *const keys[] = {"id", "actor", "verb", "object", "result", "context", "timestamp"};
    Members m = MEMBERS(keys);
    int index;
    while ((index = next_member(k, &m)) >= 0) {
        switch (index) {
        case 0: NEED(plain_string(k, &L->id) && is_uuid(L->id)); break;
        case 1: NEED(actor(k, L)); break;
        case 2: NEED(verb(k, L)); break;
        case 3: NEED(activity(k, L)); break;
        case 4: NEED(result(k, L)); break;
        case 5: NEED(context(k, L)); break;
        case 6: NEED(plain_string(k, &L->timestamp)); break;
        }
    }
    NEED(index == MEMBERS_END);
    ws(k);
    return k->c == k->end && (m.seen & 0x0E) == 0x0E; /* actor, verb and object */
}

/* --- one fast line's facts into the columns --------------------------------------------------- */

static int str_add(StrCol *col, Ptr p, size_t n, int lower) {
    NEED(buf_reserve(&col->data, n));
    unsigned char *to = col->data.p + col->data.len;
    if (lower) {
        for (size_t i = 0; i < n; i++)
            to[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (unsigned char)(p[i] | 0x20) : p[i];
    } else if (n) {
        memcpy(to, p, n);
    }
    col->data.len += n;
    return 1;
}

/* Ends the row's value (what was added since the last end), present or not. */
static int str_end(StrCol *col, int64_t row, int present) {
    int64_t end = (int64_t)col->data.len;
    return buf_put(&col->offsets, &end, sizeof end) && bit_put(&col->valid, row, present);
}

static int str_span(StrCol *col, int64_t row, Span s, int lower) {
    return (!PRESENT(s) || str_add(col, s.p, s.n, lower)) && str_end(col, row, PRESENT(s));
}

/* The definition as compact JSON: its text without the white space between tokens. */
static int str_compact(StrCol *col, Span s) {
    NEED(buf_reserve(&col->data, s.n));
    unsigned char *to = col->data.p + col->data.len;
    size_t n = 0;
    int in_string = 0;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char b = s.p[i];
        if (in_string) {
            to[n++] = b;
            if (b == '\\') {
                to[n++] = s.p[++i]; /* an escape's second character (the line was read whole) */
            } else if (b == '"') {
                in_string = 0;
            }
        } else if (b != ' ' && b != '\t' && b != '\r') {
            to[n++] = b;
            in_string = b == '"';
        }
    }
    col->data.len += n;
    return 1;
}

static int fix_put(FixCol *col, int64_t row, const void *value, int present) {
    return buf_put(&col->values, value, 8) && bit_put(&col->valid, row, present);
}

static int bool_put(FixCol *col, int64_t row, int value) {
    return bit_put(&col->values, row, value == 1) && bit_put(&col->valid, row, value >= 0);
}

static int emit(Out *o, const Line *L, int64_t ts, int has_ts, double duration) {
    int64_t r = o->rows;
    StrCol *s = o->s;
    NEED(str_span(&s[S_ID], r, L->id, 1));
    if (L->has_account) {
        NEED(str_add(&s[S_ACTOR_KEY], (Ptr) "account:", 8, 0) && str_add(&s[S_ACTOR_KEY], L->home_page.p, L->home_page.n, 0));
        NEED(str_add(&s[S_ACTOR_KEY], (Ptr) "|", 1, 0) && str_add(&s[S_ACTOR_KEY], L->account_name.p, L->account_name.n, 0));
    } else {
        NEED(str_add(&s[S_ACTOR_KEY], (Ptr) "mbox:", 5, 0) && str_add(&s[S_ACTOR_KEY], L->mbox.p, L->mbox.n, 1));
    }
    NEED(str_end(&s[S_ACTOR_KEY], r, 1));
    NEED(str_span(&s[S_LEARNER_ID], r, L->has_account ? L->account_name : (Span){NULL, 0}, 0));
    NEED(str_span(&s[S_VERB_ID], r, L->verb_id, 0));
    NEED(str_span(&s[S_OBJECT_ID], r, L->object_id, 0));
    NEED(str_span(&s[S_ACTIVITY_NAME], r, L->activity_name, 0));
    /* The curriculum code: the definition's extension, the context's, or a 16-digit segment
     * of the activity id (…/8101001110000000/… as lrs._UNIT_SEGMENT finds it first). */
    Span code = PRESENT(L->unit_code_definition) ? L->unit_code_definition : L->unit_code_context;
    for (size_t i = 0; !PRESENT(code) && i + 17 <= L->object_id.n; i++) {
        Ptr p = L->object_id.p + i;
        if (p[0] != '/')
            continue;
        Span digits = {p + 1, 16};
        size_t after = i + 17;
        if (sixteen_digits(digits) && (after == L->object_id.n || L->object_id.p[after] == '/' ||
                                       L->object_id.p[after] == '?' || L->object_id.p[after] == '#'))
            code = digits;
    }
    NEED(str_span(&s[S_UNIT_CODE], r, code, 0));
    NEED(str_span(&s[S_REGISTRATION], r, L->registration, 1));
    NEED(str_span(&s[S_ACTOR_NAME], r, L->actor_name, 0));
    if (PRESENT(L->definition)) {
        NEED(str_compact(&s[S_DEFINITION], L->definition) && str_end(&s[S_DEFINITION], r, 1));
    } else {
        NEED(str_end(&s[S_DEFINITION], r, 0));
    }
    NEED(fix_put(&o->f[F_TS], r, &ts, has_ts));
    NEED(fix_put(&o->f[F_SCORE_SCALED], r, &L->scaled, L->has_scaled));
    NEED(fix_put(&o->f[F_DURATION_S], r, &duration, PRESENT(L->duration)));
    NEED(bool_put(&o->f[F_SUCCESS], r, L->success) && bool_put(&o->f[F_COMPLETION], r, L->completion));
    o->rows++;
    return 1;
}

/* Whether the line [p, end) has the common shape and passes its checks; if so its facts are
 * appended. -1: out of memory. */
static int fast_line(Out *o, Ptr p, Ptr end) {
    Line L;
    memset(&L, 0, sizeof L);
    L.success = L.completion = -1;
    Cur k = {p, end};
    int64_t ts = 0;
    double duration = 0;
    if (!statement(&k, &L))
        return 0;
    if (PRESENT(L.timestamp) && !timestamp_us(L.timestamp, &ts))
        return 0;
    if (PRESENT(L.duration) && !duration_seconds(L.duration, &duration))
        return 0;
    return emit(o, &L, ts, PRESENT(L.timestamp), duration) ? 1 : -1;
}

static int scan_range(Ptr data, Py_ssize_t start, Py_ssize_t stop, Out *o) {
    int64_t zero = 0;
    for (int c = 0; c < S_COUNT; c++)
        NEED(buf_put(&o->s[c].offsets, &zero, sizeof zero));
    Py_ssize_t at = start;
    while (at < stop) {
        Ptr line = data + at;
        Ptr newline = memchr(line, '\n', (size_t)(stop - at));
        Ptr end = newline ? newline : data + stop;
        Ptr text_end = (end > line && end[-1] == '\r') ? end - 1 : end; /* a CRLF file's lines */
        int64_t first = at, last = text_end - data;
        Cur k = {line, text_end};
        ws(&k);
        unsigned char status;
        if (k.c == text_end) {
            status = LINE_BLANK;
        } else {
            int fast = fast_line(o, line, text_end);
            if (fast < 0)
                return 0;
            status = fast ? LINE_FAST : valid_utf8(line, text_end) ? LINE_OTHER : LINE_NOT_UTF8;
        }
        NEED(buf_put(&o->starts, &first, 8) && buf_put(&o->ends, &last, 8) && buf_put(&o->status, &status, 1));
        at = (end - data) + (newline ? 1 : 0);
    }
    return 1;
}

/* --- Python ------------------------------------------------------------------------------------ */

static void out_free(Out *o) {
    buf_free(&o->starts);
    buf_free(&o->ends);
    buf_free(&o->status);
    for (int c = 0; c < S_COUNT; c++) {
        buf_free(&o->s[c].data);
        buf_free(&o->s[c].offsets);
        buf_free(&o->s[c].valid);
    }
    for (int c = 0; c < F_COUNT; c++) {
        buf_free(&o->f[c].values);
        buf_free(&o->f[c].valid);
    }
}

/* A buffer handed to Python: read-only bytes that Arrow and numpy use in place. */
typedef struct {
    PyObject_HEAD
    Buf buf;
} Block;

static int block_getbuffer(PyObject *self, Py_buffer *view, int flags) {
    Block *block = (Block *)self;
    static char empty[1];
    return PyBuffer_FillInfo(view, self, block->buf.p ? (void *)block->buf.p : (void *)empty,
                             (Py_ssize_t)block->buf.len, 1, flags);
}

static void block_dealloc(PyObject *self) {
    buf_free(&((Block *)self)->buf);
    Py_TYPE(self)->tp_free(self);
}

static PyBufferProcs block_buffer = {block_getbuffer, NULL};

static PyTypeObject BlockType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_xapi_scan.Block",
    .tp_basicsize = sizeof(Block),
    .tp_dealloc = block_dealloc,
    .tp_as_buffer = &block_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Bytes the reader wrote, used in place.",
};

/* The buffer as a Block, which owns its memory from now on. */
static PyObject *as_bytes(Buf *b) {
    Block *block = PyObject_New(Block, &BlockType);
    if (!block)
        return NULL;
    block->buf = *b;
    b->p = NULL;
    b->len = b->cap = 0;
    return (PyObject *)block;
}

static int set_item(PyObject *dict, const char *key, PyObject *value) {
    if (!value)
        return 0;
    int done = PyDict_SetItemString(dict, key, value) == 0;
    Py_DECREF(value);
    return done;
}

static PyObject *scan(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    Py_ssize_t start, stop;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &start, &stop))
        return NULL;
    if (start < 0 || stop > view.len || start > stop) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "start and stop must lie within the data");
        return NULL;
    }
    Out o;
    memset(&o, 0, sizeof o);
    int done;
    Py_BEGIN_ALLOW_THREADS
    done = scan_range((Ptr)view.buf, start, stop, &o);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    PyObject *result = NULL;
    if (!done) {
        PyErr_NoMemory();
        goto finally;
    }
    result = PyDict_New();
    if (!result)
        goto finally;
    int ok = set_item(result, "starts", as_bytes(&o.starts)) && set_item(result, "ends", as_bytes(&o.ends)) &&
             set_item(result, "status", as_bytes(&o.status)) &&
             set_item(result, "rows", PyLong_FromLongLong(o.rows));
    for (int c = 0; ok && c < S_COUNT; c++)
        ok = set_item(result, STRING_NAMES[c],
                      Py_BuildValue("(NNN)", as_bytes(&o.s[c].valid), as_bytes(&o.s[c].offsets), as_bytes(&o.s[c].data)));
    for (int c = 0; ok && c < F_COUNT; c++)
        ok = set_item(result, FIXED_NAMES[c], Py_BuildValue("(NN)", as_bytes(&o.f[c].valid), as_bytes(&o.f[c].values)));
    if (!ok)
        Py_CLEAR(result);
finally:
    out_free(&o);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(data, start, stop) -> dict: the lines of data[start:stop] (starts, ends: int64 offsets in data; "
     "status: uint8, 0 blank, 1 common shape, 2 other, 3 not UTF-8) and the facts of the lines of the common "
     "shape (rows; per column Arrow buffers)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_xapi_scan", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__xapi_scan(void) {
#ifdef __GLIBC__
    if (!c_numbers)
        c_numbers = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!c_numbers)
        return PyErr_NoMemory();
#endif
    if (PyType_Ready(&BlockType) < 0)
        return NULL;
    return PyModule_Create(&module);
}
