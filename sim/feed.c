#include "feed.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "db.h"
#include "ids.h"
#include "jsonx.h"
#include "nkey.h"
#include "sim_sql.h"

#define FEED_MAX_KINDS   256 /* (tenant, case type) pairs we spread over */
#define FEED_SHOW_ERRORS 5   /* error replies printed in full */
#define FEED_REPLY_MAX   (1 << 20)
#define FEED_STALL_US    (30 * 1000000LL) /* no reply at all for this long */
#define FEED_GIVE_UP_US                                                        \
    (10 * 1000000LL)                       /* one request unanswered this long \
                                              leaves the window (a failover    \
                                              lost it; docs/ha.md) */
#define FEED_DRAIN_US     (30 * 1000000LL) /* wait for the last replies */
#define FEED_FIRST_REQ_MS 10000

static const char feed_help[] =
    "usage: twinline feed --cases N [options]\n"
    "\n"
    "Submit N made-up but realistic cases over the bank API, spread over\n"
    "every tenant and case type that has a playbook, and show progress.\n"
    "\n"
    "  --cases N        how many cases to submit (required)\n"
    "  --rate R         cases per second (default 50; 0 = as fast as "
    "possible)\n"
    "  --tenant T       only this tenant (repeatable)\n"
    "  --wait           wait until every submitted case is closed\n"
    "  --timeout-s S    with --wait, give up S seconds after the last\n"
    "                   submission (default 120; exit status 1)\n"
    "  --seed N         seed of the case generator (default: the time)\n"
    "  --id-prefix X    external ids are X-<tenant>-<n> (default: the time)\n"
    "  --inflight N     most requests awaiting a reply (default 256)\n"
    "  --review-share P per cent of cases that are consumer_review documents\n"
    "                   for the AI workers (0-100, default 0: none while\n"
    "                   other case types exist; needs examples/ai.json)\n";

/* Counters shared with the reply handler, which runs on a cnats thread. */
typedef struct feed_run {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    long sent;       /* requests published */
    long replied;    /* replies received */
    long ok;         /* ok replies */
    long created;    /* ok replies that created the case */
    long failed;     /* error replies */
    int64_t last_us; /* when the last reply came */
    /* Per request (by index): 0 not sent, 1 waiting, 2 answered, 3 given
     * up (its reply did not come in FEED_GIVE_UP_US; a late one still
     * counts), with when it was sent; oldest: the first that may wait. */
    unsigned char *state;
    int64_t *sent_at;
    long ncases;
    long oldest;
    long given_up;
    char shown[FEED_SHOW_ERRORS][320];
    int nshown;
    /* Requests awaiting a reply, by case number i (reply subject
     * <inbox>.i): "subject\0body", kept to send again when the
     * dispatcher answers rate_limited, as a bank would. */
    char **pending;
    int *pending_conn; /* the connection each went on (feed_conns.v) */
    long npending;
    long limited;       /* rate_limited replies (each sent again) */
    long *retry;        /* case numbers to send again... */
    int64_t *retry_due; /* ...not before these times */
    long nretry;
} feed_run;

typedef struct feed_kind {
    char tenant[65];
    char case_type[65];
} feed_kind;

/*
 * The connections the feed submits on. A bank's integration client
 * connects as an identity of its own tenant, which may publish only on
 * that tenant's API subjects and read only its own inbox: with
 * --creds-dir, one connection per tenant fed, each with that tenant's
 * credentials; without, one connection (--creds) for every tenant, as an
 * admin identity may.
 */
typedef struct feed_conn {
    char tenant[65]; /* "" on the one connection for every tenant */
    bus *b;
    char inbox[160];
} feed_conn;

typedef struct feed_conns {
    feed_conn v[FEED_MAX_KINDS];
    int n;
} feed_conns;

typedef struct feed_progress {
    int64_t open;
    int64_t closed;
    int64_t tasks_done;
    int64_t billed;
} feed_progress;

/* ---- command line ---- */

static const char *flag_value(int argc, char **argv, int *i, const char *name,
                              err *e)
{
    const char *a = argv[*i];
    size_t n = strlen(name);

    if (strncmp(a, name, n) == 0 && a[n] == '=')
        return a + n + 1;
    if (*i + 1 >= argc) {
        err_set(e, ST_CONFIG, "%s needs a value", name);
        return NULL;
    }
    return argv[++*i];
}

static bool is_flag(const char *a, const char *name)
{
    size_t n = strlen(name);

    return strncmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool prefix_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > FEED_PREFIX_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static void default_prefix(char *buf, size_t cap, uint64_t salt)
{
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32];

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
    snprintf(buf, cap, "F%s-%04x", stamp, (unsigned)(salt & 0xffff));
}

status feed_opts_parse(feed_opts *o, config *cfg, int argc, char **argv, err *e)
{
    bool have_cases = false, have_prefix = false, have_seed = false;
    const char *v;
    long n;

    memset(o, 0, sizeof(*o));
    o->rate = 50;
    o->timeout_s = 120;
    o->inflight = 256;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        err_clear(e);
        if (config_take_flag(cfg, argc, argv, &i, e)) {
            if (e != NULL && e->code != ST_OK)
                return e->code;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = true;
            return ST_OK;
        }
        if (strcmp(a, "--wait") == 0) {
            o->wait = true;
            continue;
        }
        if (is_flag(a, "--cases")) {
            if ((v = flag_value(argc, argv, &i, "--cases", e)) == NULL)
                return ST_CONFIG;
            if (!parse_long(v, 1, 100000000, &o->cases))
                return err_set(e, ST_CONFIG,
                               "--cases \"%s\" must be a whole number from 1 "
                               "to 100000000",
                               v);
            have_cases = true;
        } else if (is_flag(a, "--rate")) {
            char *end = NULL;

            if ((v = flag_value(argc, argv, &i, "--rate", e)) == NULL)
                return ST_CONFIG;
            errno = 0;
            o->rate = strtod(v, &end);
            if (errno != 0 || end == v || *end != '\0' || !isfinite(o->rate) ||
                o->rate < 0 || o->rate > 1e7)
                return err_set(e, ST_CONFIG,
                               "--rate \"%s\" must be cases per second, "
                               "0 (as fast as possible) to 10000000",
                               v);
        } else if (is_flag(a, "--tenant")) {
            if ((v = flag_value(argc, argv, &i, "--tenant", e)) == NULL)
                return ST_CONFIG;
            if (!ids_token_valid(v))
                return err_set(e, ST_CONFIG,
                               "--tenant \"%s\" is not a tenant id (letters, "
                               "digits, '_' or '-')",
                               v);
            if (o->ntenants >= FEED_MAX_TENANTS)
                return err_set(e, ST_CONFIG, "at most %d --tenant flags",
                               FEED_MAX_TENANTS);
            snprintf(o->tenants[o->ntenants++], sizeof(o->tenants[0]), "%s", v);
        } else if (is_flag(a, "--timeout-s")) {
            if ((v = flag_value(argc, argv, &i, "--timeout-s", e)) == NULL)
                return ST_CONFIG;
            if (!parse_long(v, 1, 86400, &n))
                return err_set(e, ST_CONFIG,
                               "--timeout-s \"%s\" must be 1 to 86400 seconds",
                               v);
            o->timeout_s = (int)n;
        } else if (is_flag(a, "--seed")) {
            if ((v = flag_value(argc, argv, &i, "--seed", e)) == NULL)
                return ST_CONFIG;
            if (!parse_long(v, 0, 0x7fffffffffffffffL, &n))
                return err_set(e, ST_CONFIG,
                               "--seed \"%s\" must be a whole number >= 0", v);
            o->seed = (uint64_t)n;
            have_seed = true;
        } else if (is_flag(a, "--id-prefix")) {
            if ((v = flag_value(argc, argv, &i, "--id-prefix", e)) == NULL)
                return ST_CONFIG;
            if (!prefix_valid(v))
                return err_set(e, ST_CONFIG,
                               "--id-prefix \"%s\" must be 1 to %d letters, "
                               "digits, '.', '_' or '-'",
                               v, FEED_PREFIX_MAX);
            snprintf(o->id_prefix, sizeof(o->id_prefix), "%s", v);
            have_prefix = true;
        } else if (is_flag(a, "--review-share")) {
            if ((v = flag_value(argc, argv, &i, "--review-share", e)) == NULL)
                return ST_CONFIG;
            if (!parse_long(v, 0, 100, &n))
                return err_set(e, ST_CONFIG,
                               "--review-share \"%s\" must be a whole per "
                               "cent from 0 to 100",
                               v);
            o->review_share = (int)n;
        } else if (is_flag(a, "--inflight")) {
            if ((v = flag_value(argc, argv, &i, "--inflight", e)) == NULL)
                return ST_CONFIG;
            if (!parse_long(v, 1, 65536, &n))
                return err_set(e, ST_CONFIG,
                               "--inflight \"%s\" must be 1 to 65536", v);
            o->inflight = (int)n;
        } else {
            return err_set(e, ST_CONFIG,
                           "unknown argument \"%s\"; see: twinline feed "
                           "--help",
                           a);
        }
    }
    if (!have_cases)
        return err_set(e, ST_CONFIG,
                       "--cases is required; see: twinline feed --help");
    if (!have_seed)
        o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    if (!have_prefix)
        default_prefix(o->id_prefix, sizeof(o->id_prefix), o->seed);
    return ST_OK;
}

/* ---- case generator ---- */

uint64_t feed_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t rnd_range(uint64_t *rng, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(feed_rand(rng) % (uint64_t)(hi - lo + 1));
}

#define PICK(rng, arr) ((arr)[feed_rand(rng) % (sizeof(arr) / sizeof(arr[0]))])

static const char *const zh_surnames[] = {"王", "李", "张", "刘", "陈",
                                          "杨", "黄", "赵", "吴", "周",
                                          "徐", "孙", "马", "朱", "胡"};
static const char *const zh_given[] = {"伟", "芳", "娜", "秀英", "敏",
                                       "静", "丽", "强", "磊",   "军",
                                       "洋", "勇", "艳", "杰",   "娟"};
static const char *const en_first[] = {"Emma", "Oliver", "Amelia", "George",
                                       "Isla", "Harry",  "Ava",    "Noah",
                                       "Mia",  "Jack",   "Grace",  "Leo"};
static const char *const en_last[] = {"Smith",  "Jones",  "Taylor", "Brown",
                                      "Wilson", "Evans",  "Thomas", "Roberts",
                                      "Walker", "Wright", "Green",  "Hall"};
static const char *const merchants[] = {
    "JD.com", "Taobao", "Meituan",     "Ctrip",     "Amazon UK", "Tesco",
    "Uber",   "Shell",  "Apple Store", "Starbucks", "Didi",      "IKEA"};
static const char *const dispute_reasons[] = {
    "not_received", "fraud", "duplicate_charge", "wrong_amount",
    "canceled_subscription"};
static const char *const complaint_channels[] = {"phone", "app", "branch",
                                                 "email", "web_chat"};
static const char *const complaint_categories[] = {
    "fees", "service", "mobile_app", "card", "loan", "waiting_time"};
static const char *const complaint_texts[] = {
    "I was charged a fee I never agreed to.",
    "Nobody called me back although it was promised twice.",
    "The app logs me out every time I try to pay a bill.",
    "My card was declined abroad without any warning.",
    "I waited 40 minutes in the branch and left without help.",
    "The interest on my loan does not match my contract.",
    "我的信用卡被重复扣款，请尽快处理。",
    "客服电话一直打不通，希望有人联系我。"};
static const char *const claim_kinds[] = {"motor", "home", "health", "travel"};
/* Personal free text: what customers tell the bank (sealed at rest). */
static const char *const hardship_notes[] = {
    "客户表示近期失业，希望申请分期还款。",
    "客户说本月工资推迟发放，下周五前可以还清。",
    "Customer says she was in hospital last month and missed two payments.",
    "Customer is waiting for an insurance payout and asks for 30 days.",
    "客户家中有人生病，医疗费用较高，请求延期。"};
static const char *const cardholder_statements[] = {
    "我从未在这家商户消费过，卡一直在我身上。",
    "The order never arrived and the merchant stopped answering my emails.",
    "I was charged twice for the same hotel night.",
    "订阅已经在上个月取消，但这个月仍然被扣款。"};
static const char *const claim_descriptions[] = {
    "A delivery van reversed into my parked car outside the supermarket.",
    "厨房水管爆裂，地板和橱柜被水浸泡。",
    "Burglary while we were away; the back door was forced open.",
    "在高速公路上被前车掉落的石块砸坏挡风玻璃。"};
static const char *const zh_streets[] = {"人民路", "解放大道", "中山北路",
                                         "建设路", "文一西路"};
static const char *const zh_cities[] = {"杭州", "南京", "苏州", "无锡", "宁波"};
static const char *const en_streets[] = {"High Street", "Station Road",
                                         "Church Lane", "Victoria Road"};
static const char *const en_cities[] = {"Leeds", "Bristol", "York", "Bath"};
static const char *const claim_items[] = {"laptop",    "television", "bicycle",
                                          "jewellery", "sofa",       "camera"};
static const char *const loan_products[] = {"personal_loan", "car_loan",
                                            "mortgage", "credit_card"};

/*
 * consumer_review documents: product leaflets of jsbank (Jiangnan Rural
 * Commercial Bank) as the bank's compliance team would send them for
 * review, in Chinese or English. Each is built from sentences that each
 * carry one thing the rules in examples/kb/jsbank/rules.json look for
 * (bank and complaint channel; a loan's fee, rate, term and late payment;
 * a wealth product's risk and "not a deposit"), so a variant is exactly
 * what its name says: every sentence (clean), one required sentence left
 * out (missing), a forbidden sentence added (forbidden) or an unbacked
 * claim added (unclear). No other sentence mentions a topic by accident.
 */
typedef enum review_variant {
    RV_CLEAN,     /* compliant */
    RV_FORBIDDEN, /* a phrase the bank forbids */
    RV_MISSING,   /* a mandatory disclosure left out */
    RV_UNCLEAR,   /* a claim a person must judge */
    RV_COUNT
} review_variant;

/* Shares of the variants, per cent: clean 60, forbidden 15, missing 15,
 * unclear 10. */
static review_variant review_variant_pick(uint64_t *rng)
{
    int r = (int)(feed_rand(rng) % 100);

    return r < 60   ? RV_CLEAN
           : r < 75 ? RV_FORBIDDEN
           : r < 90 ? RV_MISSING
                    : RV_UNCLEAR;
}

static const char *const loan_names_en[] = {"Personal Consumer Loan",
                                            "Car Loan", "Home Renovation Loan",
                                            "Credit Card Instalment Plan"};
static const char *const loan_names_zh[] = {"个人消费贷款", "汽车贷款",
                                            "装修贷款", "信用卡分期"};
static const char *const wealth_names_en[] = {"Steady Growth", "Golden Harvest",
                                              "Evergreen", "Spring Tide"};
static const char *const wealth_names_zh[] = {"稳盈", "金穗", "常青", "春潮"};
static const char *const review_channels[] = {"app", "branch", "wechat",
                                              "website", "sms"};

typedef struct sentences {
    const char *s[8];
    char buf[8][256];
    int n;
} sentences;

static void say(sentences *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(sentences *t, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->buf[t->n], sizeof(t->buf[0]), fmt, ap);
    va_end(ap);
    t->s[t->n] = t->buf[t->n];
    t->n++;
}

/* A loan leaflet: head, then fee, rate, term, late payment (one of them
 * left out when missing), then complaints. */
static void loan_leaflet(uint64_t *rng, bool zh, review_variant v, sentences *t,
                         char *title, size_t cap)
{
    int pick = (int)(feed_rand(rng) % 4);
    int skip = v == RV_MISSING ? (int)(feed_rand(rng) % 4) : -1;
    int fee = (int)rnd_range(rng, 0, 40) * 10;
    int rate = (int)rnd_range(rng, 300, 1800); /* basis points */
    int lo = (int)rnd_range(rng, 1, 3) * 6, hi = lo * (int)rnd_range(rng, 2, 5);

    if (zh) {
        snprintf(title, cap, "产品说明：%s", loan_names_zh[pick]);
        say(t, "江南农商银行「%s」：额度 %d 万至 %d 万元，用于家庭消费。",
            loan_names_zh[pick], (int)rnd_range(rng, 1, 5),
            (int)rnd_range(rng, 10, 50));
        if (skip != 0)
            say(t, "一次性手续费 %d 元，放款时收取。", fee);
        if (skip != 1)
            say(t, "年化利率 %d.%02d%% 起，以合同约定为准。", rate / 100,
                rate % 100);
        if (skip != 2)
            say(t, "期限 %d 至 %d 个月，等额本息还款。", lo, hi);
        if (skip != 3)
            say(t, "逾期将按约定加收罚息，并报送人民银行征信系统。");
        if (v == RV_FORBIDDEN)
            say(t, "逾期不还将列入黑名单并通知你单位。");
        if (v == RV_UNCLEAR)
            say(t, "全省最低利率，限时办理！");
        say(t, "如有疑问或投诉，请拨打客服热线 96068。");
        return;
    }
    snprintf(title, cap, "Product leaflet: %s", loan_names_en[pick]);
    say(t,
        "Jiangnan Rural Commercial Bank %s: borrow CNY %d,000 to %d,000 for "
        "your family's needs.",
        loan_names_en[pick], (int)rnd_range(rng, 10, 50),
        (int)rnd_range(rng, 100, 500));
    if (skip != 0)
        say(t, "Arrangement fee: CNY %d, paid once when the money is paid out.",
            fee);
    if (skip != 1)
        say(t,
            "Annual interest rate from %d.%02d%%; your contract states your "
            "exact rate.",
            rate / 100, rate % 100);
    if (skip != 2)
        say(t, "Loan term: %d to %d months, repaid in equal instalments.", lo,
            hi);
    if (skip != 3)
        say(t, "Late payment adds a penalty and is reported to the PBOC "
               "credit reference centre.");
    if (v == RV_FORBIDDEN)
        say(t, "If you miss a payment we will visit your home and tell your "
               "employer.");
    if (v == RV_UNCLEAR)
        say(t, "The lowest rate in the province, approval in minutes!");
    say(t, "Questions or complaints: call 96068 or visit any branch.");
}

/* A wealth product leaflet: head, return, risk, not a deposit (one of the
 * two left out when missing), then complaints. */
static void wealth_leaflet(uint64_t *rng, bool zh, review_variant v,
                           sentences *t, char *title, size_t cap)
{
    int pick = (int)(feed_rand(rng) % 4);
    int skip = v == RV_MISSING ? (int)(feed_rand(rng) % 2) : -1;
    int days = (int)rnd_range(rng, 1, 12) * 30;
    int bench = (int)rnd_range(rng, 180, 420); /* basis points */

    if (zh) {
        snprintf(title, cap, "产品说明：%s理财", wealth_names_zh[pick]);
        say(t, "江南农商银行「%s」理财产品，期限 %d 天，起购金额 1 万元。",
            wealth_names_zh[pick], days);
        say(t, "业绩比较基准年化 %d.%02d%%，过往业绩不代表未来表现。",
            bench / 100, bench % 100);
        if (skip != 0)
            say(t, "理财产品有风险，投资须谨慎，可能亏损本金。");
        if (skip != 1)
            say(t, "本产品不是存款，不受存款保险保障。");
        if (v == RV_FORBIDDEN)
            say(t, "保本保息，稳赚不赔！");
        if (v == RV_UNCLEAR)
            say(t, "限时发售，全网最低门槛！");
        say(t, "如有疑问或投诉，请拨打客服热线 96068。");
        return;
    }
    snprintf(title, cap, "Product leaflet: %s wealth product",
             wealth_names_en[pick]);
    say(t,
        "Jiangnan Rural Commercial Bank \"%s\" wealth product: %d days, "
        "from CNY 10,000.",
        wealth_names_en[pick], days);
    say(t,
        "Benchmark return %d.%02d%% a year; past performance does not "
        "predict future returns.",
        bench / 100, bench % 100);
    if (skip != 0)
        say(t, "This product carries risk: its value may go down and you may "
               "lose money.");
    if (skip != 1)
        say(t, "It is not a deposit and is not covered by deposit insurance.");
    if (v == RV_FORBIDDEN)
        say(t, "A risk-free product: you cannot lose.");
    if (v == RV_UNCLEAR)
        say(t, "Limited time offer at the best rate of the year.");
    say(t, "Questions or complaints: call 96068 or visit any branch.");
}

/* The payload of a consumer_review case of variant v. */
static json_t *review_payload(uint64_t *rng, review_variant v)
{
    bool zh = rnd_range(rng, 0, 99) < 60, loan = rnd_range(rng, 0, 99) < 60;
    sentences t;
    char title[128], doc[8 * 256 + 8] = "";
    size_t len = 0;

    memset(&t, 0, sizeof(t));
    if (loan)
        loan_leaflet(rng, zh, v, &t, title, sizeof(title));
    else
        wealth_leaflet(rng, zh, v, &t, title, sizeof(title));
    for (int i = 0; i < t.n; i++)
        len += (size_t)snprintf(doc + len, sizeof(doc) - len, "%s%s",
                                i > 0 && !zh ? " " : "", t.s[i]);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "document_type",
                     loan ? "loan_leaflet" : "wealth_leaflet", "language",
                     zh ? "zh" : "en", "channel", PICK(rng, review_channels),
                     "title", title, "document", doc);
}

/* An 18-digit resident identity number of the right shape (the check
 * digit is not computed: nothing checks it, and none is real). */
static void id_number(uint64_t *rng, char buf[24])
{
    snprintf(buf, 24, "%06d%04d%02d%02d%03d%d",
             (int)rnd_range(rng, 110000, 659999),
             (int)rnd_range(rng, 1950, 2004), (int)rnd_range(rng, 1, 12),
             (int)rnd_range(rng, 1, 28), (int)rnd_range(rng, 0, 999),
             (int)rnd_range(rng, 0, 9));
}

/* A street address in China or the UK. */
static json_t *make_address(uint64_t *rng, bool zh)
{
    char street[96], postcode[16];

    if (zh) {
        snprintf(street, sizeof(street), "%s%d号%d室", PICK(rng, zh_streets),
                 (int)rnd_range(rng, 1, 999), (int)rnd_range(rng, 101, 2808));
        snprintf(postcode, sizeof(postcode), "%06d",
                 (int)rnd_range(rng, 100000, 999999));
        return json_pack("{s:s, s:s, s:s}", "street", street, "city",
                         PICK(rng, zh_cities), "postcode", postcode);
    }
    snprintf(street, sizeof(street), "%d %s", (int)rnd_range(rng, 1, 250),
             PICK(rng, en_streets));
    return json_pack("{s:s, s:s}", "street", street, "city",
                     PICK(rng, en_cities));
}

/* Set obj[key] to v (stolen) when v is not NULL; false on failure. */
static bool put(json_t *obj, const char *key, json_t *v)
{
    return obj != NULL && v != NULL && json_object_set_new(obj, key, v) == 0;
}

/* A name, phone and language, and for some an identity number; Chinese
 * customers are the majority. */
static json_t *make_customer(uint64_t *rng)
{
    char name[64], phone[32], idn[24];
    bool zh = rnd_range(rng, 0, 99) < 70;
    json_t *c;

    if (zh) {
        snprintf(name, sizeof(name), "%s%s", PICK(rng, zh_surnames),
                 PICK(rng, zh_given));
        snprintf(phone, sizeof(phone), "+86 13%d %04d %04d",
                 (int)rnd_range(rng, 0, 9), (int)rnd_range(rng, 0, 9999),
                 (int)rnd_range(rng, 0, 9999));
    } else {
        snprintf(name, sizeof(name), "%s %s", PICK(rng, en_first),
                 PICK(rng, en_last));
        snprintf(phone, sizeof(phone), "+44 7%03d %06d",
                 (int)rnd_range(rng, 100, 999), (int)rnd_range(rng, 0, 999999));
    }
    c = json_pack("{s:s, s:s, s:s}", "name", name, "phone", phone, "language",
                  zh ? "zh" : "en");
    if (c != NULL && zh && rnd_range(rng, 0, 1) == 0) {
        id_number(rng, idn);
        if (!put(c, "id_number", json_string(idn))) {
            json_decref(c);
            return NULL;
        }
    }
    return c;
}

/* A date days_ago days before today, as YYYY-MM-DD. */
static void date_ago(char buf[16], int days_ago)
{
    time_t t = time(NULL) - (time_t)days_ago * 86400;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, 16, "%Y-%m-%d", &tm);
}

static bool has(const char *s, const char *part)
{
    return strstr(s, part) != NULL;
}

/* The damaged or stolen items of a home claim. */
static json_t *claim_item_list(uint64_t *rng)
{
    json_t *a = json_array();
    int n = (int)rnd_range(rng, 1, 3);

    for (int i = 0; a != NULL && i < n; i++)
        if (json_array_append_new(
                a, json_pack("{s:s, s:I}", "item", PICK(rng, claim_items),
                             "value_minor",
                             (json_int_t)(rnd_range(rng, 100, 20000) * 100))) !=
            0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Payload and priority for a case type, by what its name says it is: the
 * fields of the example playbooks' payload schemas (examples/, checked by
 * test_feed), personal free text and addresses among them. */
static json_t *make_payload(uint64_t *rng, const char *case_type, int *priority)
{
    char ref[32], date[16];
    const char *kind;
    json_t *p = NULL;

    if (feed_is_review(case_type)) {
        *priority = 2;
        return review_payload(rng, review_variant_pick(rng));
    }
    if (has(case_type, "loan") || has(case_type, "overdue") ||
        has(case_type, "collection")) {
        int64_t dpd = rnd_range(rng, 1, 120);

        snprintf(ref, sizeof(ref), "L-%06d", (int)rnd_range(rng, 1, 999999));
        *priority = dpd > 90 ? 7 : dpd > 30 ? 4 : 1;
        p = json_pack("{s:s, s:s, s:I, s:I, s:I}", "loan_id", ref, "product",
                      PICK(rng, loan_products), "days_past_due",
                      (json_int_t)dpd, "overdue_minor",
                      (json_int_t)(rnd_range(rng, 500, 80000) * 100),
                      "installment_minor",
                      (json_int_t)(rnd_range(rng, 200, 20000) * 100));
        if (p != NULL && rnd_range(rng, 0, 99) < 30 &&
            !put(p, "hardship_note", json_string(PICK(rng, hardship_notes))))
            goto fail;
        if (p != NULL && rnd_range(rng, 0, 99) < 25 &&
            !put(p, "home_address",
                 make_address(rng, rnd_range(rng, 0, 9) < 7)))
            goto fail;
        return p;
    }
    if (has(case_type, "dispute") || has(case_type, "card")) {
        int64_t amount = rnd_range(rng, 1000, 2000000);
        const char *reason = PICK(rng, dispute_reasons);

        snprintf(ref, sizeof(ref), "%04d", (int)rnd_range(rng, 0, 9999));
        date_ago(date, (int)rnd_range(rng, 1, 60));
        *priority = strcmp(reason, "fraud") == 0 ? 8 : amount > 500000 ? 5 : 2;
        p = json_pack("{s:s, s:s, s:I, s:s, s:s}", "card_last4", ref,
                      "merchant", PICK(rng, merchants), "amount_minor",
                      (json_int_t)amount, "reason", reason, "transaction_date",
                      date);
        if (p != NULL && rnd_range(rng, 0, 99) < 40 &&
            !put(p, "cardholder_statement",
                 json_string(PICK(rng, cardholder_statements))))
            goto fail;
        return p;
    }
    if (has(case_type, "complaint")) {
        const char *cat = PICK(rng, complaint_categories);

        *priority = rnd_range(rng, 0, 9) == 0 ? 6 : 3;
        return json_pack("{s:s, s:s, s:s}", "channel",
                         PICK(rng, complaint_channels), "category", cat, "text",
                         PICK(rng, complaint_texts));
    }
    if (has(case_type, "claim")) {
        int64_t amount = rnd_range(rng, 20000, 5000000);

        snprintf(ref, sizeof(ref), "P-2026-%06d",
                 (int)rnd_range(rng, 1, 999999));
        date_ago(date, (int)rnd_range(rng, 1, 90));
        *priority = amount > 2000000 ? 6 : 2;
        kind = PICK(rng, claim_kinds);
        p = json_pack("{s:s, s:s, s:s, s:I}", "policy_number", ref,
                      "claim_type", kind, "incident_date", date,
                      "claimed_minor", (json_int_t)amount);
        if (p != NULL && rnd_range(rng, 0, 99) < 50 &&
            !put(p, "description", json_string(PICK(rng, claim_descriptions))))
            goto fail;
        if (p != NULL && rnd_range(rng, 0, 99) < 40 &&
            !put(p, "incident_location",
                 make_address(rng, rnd_range(rng, 0, 9) < 7)))
            goto fail;
        if (p != NULL && strcmp(kind, "home") == 0 &&
            !put(p, "items", claim_item_list(rng)))
            goto fail;
        return p;
    }
    snprintf(ref, sizeof(ref), "R-%08d", (int)rnd_range(rng, 1, 99999999));
    *priority = (int)rnd_range(rng, 0, 3);
    return json_pack("{s:s, s:s}", "reference", ref, "note",
                     "generated by twinline feed");
fail:
    json_decref(p);
    return NULL;
}

status feed_case_json(uint64_t *rng, const char *case_type, const char *ext_id,
                      char **out, err *e)
{
    int priority = 0;
    json_t *customer = make_customer(rng);
    json_t *payload = make_payload(rng, case_type, &priority);
    json_t *body = NULL;
    char *text = NULL;

    if (customer != NULL && payload != NULL)
        body = json_pack("{s:s, s:s, s:i, s:O, s:O}", "external_id", ext_id,
                         "case_type", case_type, "priority", priority,
                         "customer", customer, "payload", payload);
    if (body != NULL)
        text = jsonx_dump(body);
    json_decref(customer);
    json_decref(payload);
    json_decref(body);
    if (text == NULL)
        return err_set(e, ST_NOMEM, "out of memory building a case");
    *out = text;
    return ST_OK;
}

/* ---- submitting ---- */

/* Count one submission's answer: a reply, or a request that could not
 * be sent (why says which). */
static void count_answer(feed_run *r, bool ok, bool created, const char *why)
{
    pthread_mutex_lock(&r->lock);
    r->replied++;
    r->last_us = clock_mono_us();
    if (ok) {
        r->ok++;
        r->created += created;
    } else {
        r->failed++;
        if (r->nshown < FEED_SHOW_ERRORS)
            snprintf(r->shown[r->nshown++], sizeof(r->shown[0]), "%.*s",
                     (int)sizeof(r->shown[0]) - 1, why);
    }
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* The case number of a reply subject "<inbox>.<i>"; -1 when none. */
static long reply_index(const bus_msg *m, const feed_run *r)
{
    const char *dot = strrchr(bus_msg_subject(m), '.');
    char *end = NULL;
    long i = dot != NULL ? strtol(dot + 1, &end, 10) : -1;

    return end != NULL && *end == '\0' && i >= 0 && i < r->npending ? i : -1;
}

/* Keep request i to send again after retry_ms; false when it cannot be
 * sent again (then it counts as refused). */
static bool retry_later(feed_run *r, long i, int64_t retry_ms)
{
    bool kept = false;

    pthread_mutex_lock(&r->lock);
    if (i >= 0 && r->pending[i] != NULL && r->nretry < r->npending) {
        r->retry[r->nretry] = i;
        r->retry_due[r->nretry++] = clock_mono_us() + retry_ms * 1000;
        r->limited++;
        r->last_us = clock_mono_us();
        kept = true;
    }
    pthread_mutex_unlock(&r->lock);
    return kept;
}

/* Request i was answered (or could not be sent). */
static void mark_answered(feed_run *r, long i)
{
    pthread_mutex_lock(&r->lock);
    if (r->state != NULL && i >= 0 && i < r->ncases) {
        if (r->state[i] == 3)
            r->given_up--;
        r->state[i] = 2;
    }
    pthread_mutex_unlock(&r->lock);
}

static void on_reply(void *ctx, bus_msg *m)
{
    feed_run *r = ctx;
    json_t *obj = NULL;
    err e;
    bool ok = false, created = false;
    char why[300] = "";
    long i = reply_index(m, r);

    if (bus_msg_len(m) == 0) {
        /* What NATS sends back when nobody serves the subject any more. */
        snprintf(why, sizeof(why),
                 "no responder: the dispatcher stopped or is not running");
    } else if (jsonx_parse(bus_msg_data(m), bus_msg_len(m), FEED_REPLY_MAX,
                           &obj, &e) != ST_OK) {
        snprintf(why, sizeof(why), "unreadable reply: %.250s", e.msg);
    } else if (json_is_true(json_object_get(obj, "ok"))) {
        ok = true;
        created = json_is_true(json_object_get(obj, "created"));
    } else {
        json_t *er = json_object_get(obj, "error");
        const char *code = jsonx_str(er, "code");
        const char *msg = jsonx_str(er, "message");
        int64_t after = 0;

        /* Over the tenant's quota: the same request again, later. */
        if (code != NULL && strcmp(code, "rate_limited") == 0 &&
            jsonx_int(er, "retry_after_ms", &after) && after > 0 &&
            retry_later(r, i, after)) {
            json_decref(obj);
            bus_msg_free(m);
            return;
        }
        snprintf(why, sizeof(why), "%s: %s", code != NULL ? code : "?",
                 msg != NULL ? msg : "(no message)");
    }
    json_decref(obj);
    pthread_mutex_lock(&r->lock);
    if (i >= 0) {
        free(r->pending[i]);
        r->pending[i] = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    mark_answered(r, i);
    count_answer(r, ok, created, why);
    bus_msg_free(m);
}

/* Send again the requests whose retry is due, each on the connection
 * (and so as the identity) it went on first. */
static void resend_due(feed_conns *c, feed_run *r)
{
    int64_t now = clock_mono_us();

    pthread_mutex_lock(&r->lock);
    for (long k = 0; k < r->nretry;) {
        long i = r->retry[k];
        const char *subject, *body;
        char reply[192];
        err e = {0};

        if (r->retry_due[k] > now) {
            k++;
            continue;
        }
        r->retry[k] = r->retry[--r->nretry];
        r->retry_due[k] = r->retry_due[r->nretry];
        subject = r->pending[i];
        body = subject + strlen(subject) + 1;
        snprintf(reply, sizeof(reply), "%s.%ld", c->v[r->pending_conn[i]].inbox,
                 i);
        if (r->sent_at != NULL && i < r->ncases)
            r->sent_at[i] = now; /* its wait for a reply starts again */
        /* A send that fails is answered by nothing: the stall check and
         * the drain count it. */
        bus_publish_request(c->v[r->pending_conn[i]].b, subject, reply, body,
                            strlen(body), &e);
    }
    pthread_mutex_unlock(&r->lock);
}

/* Print error replies that arrived since the last call. */
static void show_new_errors(feed_run *r, int *printed, bool tty)
{
    pthread_mutex_lock(&r->lock);
    while (*printed < r->nshown) {
        fprintf(stderr, "%sfeed: error reply: %s\n", tty ? "\r\033[K" : "",
                r->shown[(*printed)++]);
    }
    pthread_mutex_unlock(&r->lock);
}

bool feed_is_review(const char *case_type)
{
    return strcmp(case_type, "consumer_review") == 0;
}

/* The (tenant, case type) pairs to feed, the other case types first and
 * then the nreview consumer_review ones. */
static status load_kinds(db *d, const feed_opts *o, feed_kind *kinds, int *n,
                         int *nreview, err *e)
{
    db_res *res = NULL;
    status s = db_run(d, &sim_sql_feed_kinds, NULL, &res, e);
    int count = 0, reviews = 0;

    if (s != ST_OK)
        return err_wrap(e, "reading playbooks");
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < db_rows(res) && count < FEED_MAX_KINDS; i++) {
            const char *tenant = db_val(res, i, SIM_FEED_KINDS_TENANT_ID);
            const char *ct = db_val(res, i, SIM_FEED_KINDS_CASE_TYPE);
            bool wanted = o->ntenants == 0;

            for (int t = 0; t < o->ntenants && !wanted; t++)
                wanted = strcmp(o->tenants[t], tenant) == 0;
            if (!wanted || feed_is_review(ct) != (pass == 1))
                continue;
            snprintf(kinds[count].tenant, sizeof(kinds[0].tenant), "%s",
                     tenant);
            snprintf(kinds[count].case_type, sizeof(kinds[0].case_type), "%s",
                     ct);
            count++;
            reviews += pass;
        }
    }
    db_res_free(res);
    if (count == 0) {
        if (o->ntenants > 0)
            return err_set(e, ST_NOT_FOUND,
                           "no playbooks for the tenants given with --tenant;"
                           " run: twinline playbook list");
        return err_set(e, ST_NOT_FOUND,
                       "no playbooks are loaded, so there is nothing to "
                       "submit; run: twinline load examples/*.json");
    }
    if (o->review_share > 0 && reviews == 0)
        return err_set(e, ST_NOT_FOUND,
                       "--review-share %d needs a consumer_review playbook "
                       "for the tenants fed; run: twinline load "
                       "examples/ai.json",
                       o->review_share);
    *n = count;
    *nreview = reviews;
    return ST_OK;
}

/*
 * The kind of the next case, kinds[0..n) with the last nreview of them
 * consumer_review: one of those with probability share %, else one of the
 * others, uniformly; all of them when there are no others. With share 0
 * and no review kinds it draws exactly one number, as before the share
 * existed, so seeded runs repeat.
 */
static const feed_kind *pick_kind(uint64_t *rng, const feed_kind *kinds, int n,
                                  int nreview, int share)
{
    int nregular = n - nreview;

    if (nreview > 0 &&
        (nregular == 0 || (share > 0 && (int)(feed_rand(rng) % 100) < share)))
        return &kinds[nregular + (int)(feed_rand(rng) % (uint64_t)nreview)];
    return &kinds[feed_rand(rng) % (uint64_t)nregular];
}

static status query_progress(db *d, const char *prefix, feed_progress *p,
                             err *e)
{
    const char *params[1] = {prefix};
    db_res *res = NULL;
    status s = db_run(d, &sim_sql_feed_progress, params, &res, e);

    /* PostgreSQL restarted under us: connect again and ask once more. */
    if (s == ST_UNAVAILABLE && db_reconnect(d, e) == ST_OK)
        s = db_run(d, &sim_sql_feed_progress, params, &res, e);
    if (s != ST_OK)
        return s;
    p->open = db_i64(res, 0, SIM_FEED_PROGRESS_OPEN);
    p->closed = db_i64(res, 0, SIM_FEED_PROGRESS_CLOSED);
    p->tasks_done = db_i64(res, 0, SIM_FEED_PROGRESS_TASKS_DONE);
    p->billed = db_i64(res, 0, SIM_FEED_PROGRESS_BILLED);
    db_res_free(res);
    return ST_OK;
}

typedef struct feed_view {
    bool tty;
    int64_t start_us;
    int64_t next_line_us; /* when a non-terminal gets its next line */
    int errors_printed;
    bool have;
    feed_progress last;
} feed_view;

/* Query the database and redraw the progress line (or print one). */
static void progress(feed_view *v, db *d, feed_run *r, const feed_opts *o,
                     bool force)
{
    int64_t now = clock_mono_us();
    long sent, ok, failed;
    err e;

    show_new_errors(r, &v->errors_printed, v->tty);
    if (query_progress(d, o->id_prefix, &v->last, &e) == ST_OK)
        v->have = true;
    if (!v->tty && !force && now < v->next_line_us)
        return;
    v->next_line_us = now + 5 * 1000000LL;
    pthread_mutex_lock(&r->lock);
    sent = r->sent;
    ok = r->ok;
    failed = r->failed;
    pthread_mutex_unlock(&r->lock);
    fprintf(stderr,
            "%sfeed: %5.1fs  submitted %ld/%ld (ok %ld, err %ld)  open %" PRId64
            "  closed %" PRId64 "  tasks done %" PRId64 "  billed %" PRId64
            "%s",
            v->tty ? "\r\033[K" : "", (double)(now - v->start_us) / 1e6, sent,
            o->cases, ok, failed, v->last.open, v->last.closed,
            v->last.tasks_done, v->last.billed, v->tty ? "" : "\n");
    fflush(stderr);
}

/* Wait until fewer than limit requests are unanswered, sending again
 * what is due; false on a stall. */
static bool wait_window(feed_conns *c, feed_run *r, long limit)
{
    bool ok = true;

    resend_due(c, r);
    pthread_mutex_lock(&r->lock);
    while (r->sent - r->replied - r->given_up >= limit) {
        struct timespec ts;
        int64_t now = clock_mono_us();

        /* Requests whose reply is long overdue leave the window: during a
         * failover a request can go unanswered (docs/ha.md), and the bank
         * goes on. They count as unanswered unless a reply still comes. */
        while (r->state != NULL && r->oldest < r->sent &&
               r->oldest < r->ncases &&
               (r->state[r->oldest] != 1 ||
                now - r->sent_at[r->oldest] > FEED_GIVE_UP_US)) {
            if (r->state[r->oldest] == 1) {
                r->state[r->oldest] = 3;
                r->given_up++;
            }
            r->oldest++;
        }
        if (r->sent - r->replied - r->given_up < limit)
            break;
        if (now - r->last_us > FEED_STALL_US) {
            ok = false;
            break;
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->cond, &r->lock, &ts);
        pthread_mutex_unlock(&r->lock);
        resend_due(c, r);
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return ok;
}

static void sleep_us(int64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/*
 * The first request goes alone so that a missing dispatcher is a clear
 * error. A dispatcher that is still starting has no responder yet, so that
 * is retried for a while.
 */
static status submit_first(bus *b, const char *subject, const char *body,
                           feed_run *r, err *e)
{
    int64_t give_up = clock_mono_us() + FEED_FIRST_REQ_MS * 1000LL;
    bus_msg *reply = NULL;
    status s;

    for (;;) {
        s = bus_request(b, subject, body, strlen(body), FEED_FIRST_REQ_MS,
                        &reply, e);
        if (s != ST_UNAVAILABLE || clock_mono_us() > give_up)
            break;
        clock_sleep_ms(200);
    }
    if (s == ST_UNAVAILABLE || s == ST_TIMEOUT)
        return err_set(e, s,
                       "no reply to the first case on %s; is "
                       "twinline-dispatcher running on this NATS server "
                       "with the same --prefix?",
                       subject);
    if (s != ST_OK)
        return s;
    pthread_mutex_lock(&r->lock);
    r->sent++;
    pthread_mutex_unlock(&r->lock);
    on_reply(r, reply);
    return ST_OK;
}

/* The one credentials file of the program, or NULL. */
static const char *bo_creds(const config *cfg)
{
    return cfg->creds[0] != '\0' ? cfg->creds : NULL;
}

static status conn_open(feed_conn *c, const config *cfg, const char *tenant,
                        const char *creds, feed_run *r, err *e)
{
    char subject[200], name[ID_MAX + 32];
    bus_opts bo;
    status s;

    snprintf(name, sizeof(name), "twinline-feed%s%s", tenant[0] ? " " : "",
             tenant);
    config_bus_opts(cfg, name, &bo);
    snprintf(c->tenant, sizeof(c->tenant), "%s", tenant);
    bo.creds = creds;
    s = bus_connect_opts(&c->b, &bo, e);
    if (s == ST_OK)
        s = bus_inbox_new(c->b, c->inbox, sizeof(c->inbox), e);
    if (s == ST_OK) {
        snprintf(subject, sizeof(subject), "%s.*", c->inbox);
        s = bus_subscribe(c->b, subject, NULL, on_reply, r, e);
    }
    if (s != ST_OK && tenant[0] != '\0')
        err_wrap(e, "tenant %s", tenant);
    return s;
}

static status conns_open(feed_conns *c, const config *cfg,
                         const feed_kind *kinds, int nkinds, feed_run *r,
                         err *e)
{
    nkey_dir *dir = NULL;
    status s = ST_OK;

    c->n = 0;
    if (cfg->creds_dir[0] == '\0') {
        c->n = 1;
        return conn_open(&c->v[0], cfg, "", bo_creds(cfg), r, e);
    }
    s = nkey_dir_open(&dir, cfg->creds_dir, e);
    for (int k = 0; s == ST_OK && k < nkinds; k++) {
        const char *path = NULL;
        bool have = false;

        for (int i = 0; i < c->n && !have; i++)
            have = strcmp(c->v[i].tenant, kinds[k].tenant) == 0;
        if (have)
            continue;
        s = nkey_dir_find(dir, "tenant", kinds[k].tenant, &path, e);
        if (s == ST_OK)
            s = conn_open(&c->v[c->n++], cfg, kinds[k].tenant, path, r, e);
    }
    nkey_dir_close(dir);
    return s;
}

/* The connection that submits for tenant (its index in c->v). */
static int conn_for(const feed_conns *c, const char *tenant)
{
    for (int i = 0; i < c->n; i++)
        if (c->v[i].tenant[0] == '\0' || strcmp(c->v[i].tenant, tenant) == 0)
            return i;
    return 0;
}

static status conns_flush(feed_conns *c, err *e)
{
    status s = ST_OK;

    for (int i = 0; s == ST_OK && i < c->n; i++)
        s = bus_flush(c->v[i].b, 5000, e);
    return s;
}

static void conns_close(feed_conns *c)
{
    for (int i = 0; i < c->n; i++) {
        bus_close(c->v[i].b);
        c->v[i].b = NULL;
    }
    c->n = 0;
}

static status submit_all(feed_conns *conns, db *d, const feed_opts *o,
                         const config *cfg, const feed_kind *kinds, int nkinds,
                         int nreview, feed_run *r, feed_view *v, err *e)
{
    uint64_t rng = o->seed;
    int64_t next_progress = 0;
    status s = ST_OK;

    for (long i = 0; i < o->cases; i++) {
        const feed_kind *k =
            pick_kind(&rng, kinds, nkinds, nreview, o->review_share);
        char subject[256], reply[192], ext_id[160];
        char *body = NULL;
        int ci = conn_for(conns, k->tenant);
        bus *b = conns->v[ci].b;
        const char *inbox = conns->v[ci].inbox;
        int64_t now = clock_mono_us();

        if (now >= next_progress) {
            progress(v, d, r, o, false);
            next_progress = now + 500000;
        }
        if (o->rate > 0) {
            int64_t due = v->start_us + (int64_t)((double)i * 1e6 / o->rate);

            now = clock_mono_us();
            if (due > now)
                sleep_us(due - now);
        }
        if (i > 0 && !wait_window(conns, r, o->inflight)) {
            s = err_set(e, ST_TIMEOUT,
                        "no reply from the dispatcher for %lld s with %d "
                        "requests waiting; see the dispatcher log",
                        FEED_STALL_US / 1000000, o->inflight);
            break;
        }
        snprintf(subject, sizeof(subject), "%s.api.%s.case.submit", cfg->prefix,
                 k->tenant);
        snprintf(ext_id, sizeof(ext_id), "%s-%s-%06ld", o->id_prefix, k->tenant,
                 i + 1);
        s = feed_case_json(&rng, k->case_type, ext_id, &body, e);
        if (s != ST_OK)
            break;
        if (i == 0) {
            s = submit_first(b, subject, body, r, e);
        } else {
            size_t ns = strlen(subject) + 1, nb = strlen(body) + 1;
            char *kept = malloc(ns + nb);

            if (kept == NULL) {
                free(body);
                s = err_set(e, ST_NOMEM, "out of memory");
                break;
            }
            memcpy(kept, subject, ns);
            memcpy(kept + ns, body, nb);
            snprintf(reply, sizeof(reply), "%s.%ld", inbox, i);
            pthread_mutex_lock(&r->lock);
            r->sent++;
            r->pending[i] = kept;
            r->pending_conn[i] = ci;
            if (r->state != NULL && i < r->ncases) {
                r->state[i] = 1;
                r->sent_at[i] = clock_mono_us();
            }
            pthread_mutex_unlock(&r->lock);
            s = bus_publish_request(b, subject, reply, body, strlen(body), e);
            if (s == ST_UNAVAILABLE) {
                /* The connection to NATS broke under the request (the
                 * client reconnects): the case was not submitted, which a
                 * bank retries later, so count it as an error and go on. */
                char why[300];

                snprintf(why, sizeof(why), "not sent: %.280s", e->msg);
                pthread_mutex_lock(&r->lock);
                free(r->pending[i]);
                r->pending[i] = NULL;
                pthread_mutex_unlock(&r->lock);
                mark_answered(r, i);
                count_answer(r, false, false, why);
                s = ST_OK;
            }
        }
        free(body);
        if (s != ST_OK)
            break;
    }
    return s;
}

/* Wait for the replies still outstanding (sending again what the quota
 * put off); the rest count as lost. */
static long drain_replies(feed_conns *c, feed_run *r, db *d, const feed_opts *o,
                          feed_view *v)
{
    int64_t give_up = clock_mono_us() + FEED_DRAIN_US;
    long missing;

    for (;;) {
        pthread_mutex_lock(&r->lock);
        missing = r->sent - r->replied;
        pthread_mutex_unlock(&r->lock);
        if (missing == 0 || clock_mono_us() > give_up)
            break;
        progress(v, d, r, o, false);
        resend_due(c, r);
        clock_sleep_ms(20);
    }
    return missing;
}

/* Wait until every accepted case is closed; false on time-out. */
static bool wait_closed(feed_run *r, db *d, const feed_opts *o, feed_view *v)
{
    int64_t give_up = clock_mono_us() + (int64_t)o->timeout_s * 1000000;
    long ok;

    pthread_mutex_lock(&r->lock);
    ok = r->ok;
    pthread_mutex_unlock(&r->lock);
    for (;;) {
        progress(v, d, r, o, false);
        if (v->have && v->last.open == 0 && v->last.closed >= ok)
            return true;
        if (clock_mono_us() > give_up)
            return false;
        clock_sleep_ms(500);
    }
}

int feed_main(int argc, char **argv, const config *cfg_in)
{
    config cfg = *cfg_in;
    feed_opts o;
    feed_run r;
    feed_view v;
    feed_kind *kinds = NULL;
    int nkinds = 0, nreview = 0, rc = 1;
    db *d = NULL;
    feed_conns *conns = NULL;
    long missing = 0;
    double secs;
    err e;

    err_clear(&e);
    if (feed_opts_parse(&o, &cfg, argc, argv, &e) != ST_OK) {
        fprintf(stderr, "twinline feed: %s\n", e.msg);
        return 2;
    }
    if (o.help) {
        fputs(feed_help, stdout);
        fputs(config_flags_help, stdout);
        return 0;
    }
    memset(&r, 0, sizeof(r));
    memset(&v, 0, sizeof(v));
    pthread_mutex_init(&r.lock, NULL);
    r.ncases = o.cases;
    r.state = calloc((size_t)o.cases + 1, 1);
    r.sent_at = calloc((size_t)o.cases + 1, sizeof(int64_t));
    if (r.state == NULL || r.sent_at == NULL) {
        /* Without them every request waits for its reply, as before. */
        free(r.state);
        free(r.sent_at);
        r.state = NULL;
        r.sent_at = NULL;
    }
    pthread_cond_init(&r.cond, NULL);
    v.tty = isatty(STDERR_FILENO) == 1;

    kinds = calloc(FEED_MAX_KINDS, sizeof(*kinds));
    r.npending = o.cases;
    r.pending = calloc((size_t)o.cases + 1, sizeof(*r.pending));
    r.pending_conn = calloc((size_t)o.cases + 1, sizeof(*r.pending_conn));
    r.retry = calloc((size_t)o.cases + 1, sizeof(*r.retry));
    r.retry_due = calloc((size_t)o.cases + 1, sizeof(*r.retry_due));
    if (kinds == NULL || r.pending == NULL || r.pending_conn == NULL ||
        r.retry == NULL || r.retry_due == NULL) {
        err_set(&e, ST_NOMEM, "out of memory");
        goto out;
    }
    if (db_connect(&d, cfg.db, &e) != ST_OK)
        goto out;
    if (load_kinds(d, &o, kinds, &nkinds, &nreview, &e) != ST_OK)
        goto out;
    conns = calloc(1, sizeof(*conns));
    if (conns == NULL) {
        err_set(&e, ST_NOMEM, "out of memory");
        goto out;
    }
    if (conns_open(conns, &cfg, kinds, nkinds, &r, &e) != ST_OK)
        goto out;

    fprintf(stderr,
            "feed: %ld cases over %d case types, %s, external ids %s-*\n",
            o.cases, nkinds, o.rate > 0 ? "paced" : "as fast as possible",
            o.id_prefix);
    if (nreview > 0)
        fprintf(stderr, "feed: %d%% consumer_review documents\n",
                nreview == nkinds ? 100 : o.review_share);
    if (o.rate > 0)
        fprintf(stderr, "feed: rate %.1f cases/s, about %.0f s\n", o.rate,
                (double)o.cases / o.rate);
    v.start_us = clock_mono_us();
    r.last_us = v.start_us;
    if (submit_all(conns, d, &o, &cfg, kinds, nkinds, nreview, &r, &v, &e) !=
        ST_OK) {
        if (v.tty)
            fputc('\n', stderr);
        goto out;
    }
    if (conns_flush(conns, &e) != ST_OK)
        goto out;
    missing = drain_replies(conns, &r, d, &o, &v);
    secs = (double)(clock_mono_us() - v.start_us) / 1e6;
    progress(&v, d, &r, &o, true);
    if (v.tty)
        fputc('\n', stderr);
    show_new_errors(&r, &v.errors_printed, false);
    printf("feed: submitted %ld cases in %.1f s (%.1f/s): %ld accepted "
           "(%ld new), %ld refused, %ld unanswered",
           r.sent, secs, secs > 0 ? (double)r.sent / secs : 0.0, r.ok,
           r.created, r.failed, missing);
    if (r.limited > 0)
        printf("; %ld rate_limited replies, each sent again later", r.limited);
    printf("\n");
    fflush(stdout);
    rc = (r.failed > 0 || missing > 0) ? 1 : 0;
    if (o.wait) {
        bool done = wait_closed(&r, d, &o, &v);

        progress(&v, d, &r, &o, true);
        if (v.tty)
            fputc('\n', stderr);
        secs = (double)(clock_mono_us() - v.start_us) / 1e6;
        if (done) {
            printf("feed: all %" PRId64 " cases closed after %.1f s; %" PRId64
                   " tasks completed, %" PRId64 " billable lines\n",
                   v.last.closed, secs, v.last.tasks_done, v.last.billed);
        } else {
            printf("feed: timed out after %d s waiting: %" PRId64
                   " of %ld cases still open; see the dispatcher and agent "
                   "logs, or raise --timeout-s\n",
                   o.timeout_s, v.last.open, r.ok);
            rc = 1;
        }
    }
    e.code = ST_OK;
out:
    if (e.code != ST_OK)
        fprintf(stderr, "twinline feed: %s\n", e.msg);
    /* Close the buses first: no reply handler may run once r is gone. */
    if (conns != NULL)
        conns_close(conns);
    free(conns);
    db_close(d);
    free(kinds);
    for (long i = 0; r.pending != NULL && i < r.npending; i++)
        free(r.pending[i]);
    free(r.pending);
    free(r.pending_conn);
    free(r.retry);
    free(r.retry_due);
    pthread_cond_destroy(&r.cond);
    pthread_mutex_destroy(&r.lock);
    free(r.state);
    free(r.sent_at);
    return rc;
}
