/*
 * test_engine.c: the DDT engine through the public API (SPEC 3, 4, 9.1-9.4,
 * 9.8): transcripts of small projects asserting what a caller hears (text,
 * step, escalation of each message), what memory holds ($status, $failed,
 * $failedSub, $meta), `expecting` and the session status.  Every step and
 * fallback, each escalation level, exhaustion of each counter (limit 0
 * too), sub-data and partial fills, corrections in confirmation, validate
 * rules (sub, text, custom steps), mixed initiative, `values`, optional
 * nodes, re-entry, DTMF and ner/llm effects.
 *
 * Projects are written with ' for " to keep them readable.
 */
#include <stdlib.h>
#include <ddt/ddt.h>
#include "t.h"

#define NOW  1795000000000LL          /* 2026-11-18 (Europe/Rome), pinned */

static ddt_arena_t         A;
static ddt_project_t      *P;
static uint8_t            *B;
static ddt_session_t      *S;
static ddt_json_t         *R;        /* last turn response */
static ddt_turn_result_t   RES;
static int                 HTTP;     /* last turn: 200 or the error status */
static ddt_err_t           ERR;

/* ---- harness ---------------------------------------------------------- */

static char *
q(const char *src)
{
    char    *s;
    size_t   i, n;

    n = strlen(src);
    s = ddt_arena_alloc(&A, n + 1);
    for (i = 0; i < n; i++) {
        s[i] = src[i] == '\'' ? '"' : src[i];
    }
    s[n] = '\0';
    return s;
}

static void
done(void)
{
    if (S != NULL) {
        ddt_session_free(S);
        S = NULL;
    }
    if (P != NULL) {
        ddt_project_free(P);
        P = NULL;
    }
    free(B);
    B = NULL;
    ddt_turn_result_free(&RES);
    ddt_turn_result_init(&RES);
    ddt_arena_reset(&A);
}

static int
load(const char *src)
{
    ddt_diags_t  d;
    char         err[256];
    size_t       i, len;
    const char  *s;

    done();
    s = q(src);
    ddt_diags_init(&d);
    if (ddt_compile(s, strlen(s), &d, &B, &len) != DDT_OK) {
        for (i = 0; i < d.n; i++) {
            fprintf(stderr, "  %s: %s\n", d.items[i].path, d.items[i].message);
        }
        ddt_diags_free(&d);
        CHECK_MSG(0, "test project does not compile");
        return -1;
    }
    ddt_diags_free(&d);
    if (ddt_project_load(B, len, &P, err, sizeof(err)) != DDT_OK) {
        CHECK_MSG(0, "load: %s", err);
        return -1;
    }
    return 0;
}

static ddt_json_t *
parse_response(void)
{
    ddt_jerr_t  e;

    if (RES.response.data == NULL) {
        return NULL;
    }
    return ddt_json_parse(&A, RES.response.data, RES.response.len, NULL, &e);
}

static int
start(const char *vars, const char *locale)
{
    ddt_session_opts_t  o;
    ddt_jerr_t          je;
    const char         *v;

    if (P == NULL) {
        return -1;
    }
    memset(&o, 0, sizeof(o));
    o.session_id = "engine-test-0001";
    o.locale = locale;
    o.now_ms = NOW;
    if (vars != NULL) {
        v = q(vars);
        o.variables = ddt_json_parse(&A, v, strlen(v), NULL, &je);
    }
    ddt_turn_result_free(&RES);
    ddt_turn_result_init(&RES);
    if (ddt_session_create(P, &o, &S, &RES, &ERR) != DDT_OK) {
        CHECK_MSG(0, "create: %s %s", ERR.code, ERR.message);
        S = NULL;
        return -1;
    }
    R = parse_response();
    return 0;
}

static void
turn_body(const char *body)
{
    ddt_input_t  in;

    R = NULL;
    HTTP = 0;
    if (S == NULL) {
        return;
    }
    memset(&ERR, 0, sizeof(ERR));
    if (ddt_input_parse(&A, body, strlen(body), &in, &ERR) != DDT_OK) {
        HTTP = ERR.http;
        return;
    }
    ddt_turn_result_free(&RES);
    ddt_turn_result_init(&RES);
    if (ddt_turn(P, S, &in, NOW + 1000, &RES, &ERR) != DDT_OK) {
        HTTP = ERR.http;
        return;
    }
    HTTP = 200;
    R = parse_response();
}

static void
say(const char *text)
{
    ddt_buf_t  b;

    ddt_buf_init(&b);
    ddt_buf_adds(&b, "{\"text\":");
    ddt_json_write_str(&b, text, strlen(text));
    ddt_buf_addc(&b, '}');
    turn_body(b.data);
    ddt_buf_free(&b);
}

static void
dtmf(const char *d)
{
    char  b[128];

    snprintf(b, sizeof(b), "{\"dtmf\":\"%s\"}", d);
    turn_body(b);
}

static void
event(const char *ev)
{
    char  b[128];

    snprintf(b, sizeof(b), "{\"event\":\"%s\"}", ev);
    turn_body(b);
}

static void
values(const char *json)
{
    char  *b;

    b = ddt_arena_alloc(&A, strlen(json) + 32);
    sprintf(b, "{\"values\":%s}", q(json));
    turn_body(b);
}

/* "a.b.0.c" into a JSON value */
static const ddt_json_t *
jp(const ddt_json_t *j, const char *path)
{
    char         seg[128];
    const char  *s = path, *e;
    size_t       n, i;

    while (j != NULL && *s) {
        e = strchr(s, '.');
        n = e ? (size_t) (e - s) : strlen(s);
        if (n >= sizeof(seg)) {
            return NULL;
        }
        memcpy(seg, s, n);
        seg[n] = '\0';
        if (j->type == DDT_J_ARR) {
            i = (size_t) atoi(seg);
            j = i < j->u.arr.len ? j->u.arr.items[i] : NULL;
        } else {
            j = ddt_json_getz(j, seg);
        }
        s += n + (e ? 1 : 0);
    }
    return j;
}

/* memory of the session (GET description) */
static const ddt_json_t *
mem(const char *path)
{
    ddt_buf_t    b;
    ddt_jerr_t   e;
    ddt_json_t  *j;

    if (S == NULL) {
        return NULL;
    }
    ddt_buf_init(&b);
    ddt_session_describe(S, &b);
    j = ddt_json_parse(&A, b.data ? b.data : "", b.len, NULL, &e);
    ddt_buf_free(&b);
    return jp(jp(j, "memory"), path);
}

static const char *
mem_s(const char *path)
{
    const ddt_json_t  *j = mem(path);

    return j && j->type == DDT_J_STR ? j->u.str.s : NULL;
}

static double
mem_n(const char *path)
{
    const ddt_json_t  *j = mem(path);

    return j && j->type == DDT_J_NUM ? j->u.n : -12345;
}

static int
mem_absent(const char *path)
{
    const ddt_json_t  *j = mem(path);

    return j == NULL || j->type == DDT_J_NULL;
}

static size_t
n_msgs(void)
{
    const ddt_json_t  *m = jp(R, "messages");

    return m && m->type == DDT_J_ARR ? m->u.arr.len : 0;
}

static const char *
rs(const char *path)
{
    const ddt_json_t  *j = jp(R, path);

    return j && j->type == DDT_J_STR ? j->u.str.s : NULL;
}

static double
rn(const char *path)
{
    const ddt_json_t  *j = jp(R, path);

    return j && j->type == DDT_J_NUM ? j->u.n : -12345;
}

/* Message i (negative: from the end) is a DDT prompt with this text,
 * step and escalation. */
static void
msg_check(int line, int i, const char *text, const char *step, int esc)
{
    char                path[64];
    const ddt_json_t   *m;
    const char         *t, *s;
    double              e;

    if (i < 0) {
        i += (int) n_msgs();
    }
    snprintf(path, sizeof(path), "messages.%d", i);
    m = jp(R, path);
    t = m ? (jp(m, "text") ? jp(m, "text")->u.str.s : NULL) : NULL;
    s = m && jp(m, "step") && jp(m, "step")->type == DDT_J_STR
        ? jp(m, "step")->u.str.s : NULL;
    e = m && jp(m, "escalation") && jp(m, "escalation")->type == DDT_J_NUM
        ? jp(m, "escalation")->u.n : -1;

    if (m != NULL && t != NULL && strcmp(t, text) == 0
        && (step == NULL ? s == NULL : (s != NULL && strcmp(s, step) == 0))
        && (esc < 0 || (int) e == esc))
    {
        t_pass++;
        return;
    }
    t_fail++;
    fprintf(stderr, "%s:%d: message %d: got {\"%s\", %s, %g}, want "
            "{\"%s\", %s, %d}\n  response: %s\n", __FILE__, line, i,
            t ? t : "(none)", s ? s : "(none)", e, text,
            step ? step : "(none)", esc,
            RES.response.data ? RES.response.data : "(none)");
}

#define MSG(i, text, step, esc)  msg_check(__LINE__, i, text, step, esc)
#define NMSG(n)  CHECK_MSG(n_msgs() == (n), "%zu messages, want %d: %s", \
                           n_msgs(), (n), RES.response.data)
#define STATUS(s)  CHECK_STR(rs("status"), s)

/* ---- projects --------------------------------------------------------- */

/* One integer node; the flow reports how the GetData ended. */
static const char *P_COUNT =
"{'format':'ddt-project/1','name':'counters','version':'1','locale':'it-IT',"
" 'flow':{'start':'ask','nodes':["
"  {'id':'ask','tasks':[{'type':'GetData','ddt':'d'}]},"
"  {'id':'ok','tasks':[{'type':'SayMessage','text':'OK {d.qty}'}]},"
"  {'id':'ko','tasks':[{'type':'SayMessage','text':'KO {d.$failed}'}]}],"
"  'edges':[{'from':'ask','to':'ko','condition':'d.$status == \\'exhausted\\''},"
"           {'from':'ask','to':'ok'}]},"
" 'ddts':{'d':{'data':["
"  {'id':'qty','kind':'integer','min':1,'max':10,"
"   'steps':{'start':['S1','S2'],'noMatch':['NM1','NM2'],"
"            'noInput':['NI1'],'invalid':['INV1','INV2'],"
"            'success':['Bene.']},"
"   'limits':{'noMatch':3,'noInput':2,'invalid':1}}]}}}";

/* Limits 0 and prompts missing for every reprompt (fallback to start). */
static const char *P_ZERO =
"{'format':'ddt-project/1','name':'zero','version':'1','locale':'it-IT',"
" 'flow':{'start':'ask','nodes':["
"  {'id':'ask','tasks':[{'type':'GetData','ddt':'d'}]},"
"  {'id':'ko','tasks':[{'type':'SayMessage','text':'KO'}]}],"
"  'edges':[{'from':'ask','to':'ko','condition':'d.$status == \\'exhausted\\''}]},"
" 'ddts':{'d':{'data':["
"  {'id':'qty','kind':'integer','max':100,"
"   'steps':{'start':['A1','A2']},"
"   'limits':{'noMatch':0,'noInput':1,'invalid':0}}]}}}";

/* A date with declared sub-data, confirmation and rules. */
static const char *P_DATE =
"{'format':'ddt-project/1','name':'dates','version':'1','locale':'it-IT',"
" 'flow':{'start':'ask','nodes':["
"  {'id':'ask','tasks':[{'type':'GetData','ddt':'c'}]},"
"  {'id':'ok','tasks':[{'type':'SayMessage','text':'Anno {c.birth.year}'}]},"
"  {'id':'ko','tasks':[{'type':'SayMessage','text':'KO'}]}],"
"  'edges':[{'from':'ask','to':'ko','condition':'c.$status == \\'exhausted\\''},"
"           {'from':'ask','to':'ok'}]},"
" 'ddts':{'c':{'data':["
"  {'id':'birth','kind':'date','label':'data di nascita','confirm':'always',"
"   'subData':["
"     {'id':'day','kind':'integer','min':1,'max':31,"
"      'steps':{'start':['Che giorno?']}},"
"     {'id':'month','kind':'month','steps':{'start':['Di che mese?']}},"
"     {'id':'year','kind':'integer','min':1900,'max':2100,"
"      'steps':{'start':['Di che anno?'],'invalid':['Anno tra 1900 e 2100.']}}],"
"   'validate':["
"     {'condition':'value <= today()','step':'invalid'},"
"     {'condition':'value.day != 13','sub':'day',"
"      'text':'Il 13 no. Che giorno?'},"
"     {'condition':'value.year != 1999','step':'noMillennium'}],"
"   'steps':{'start':['Data?'],"
"     'noMatch':['Non ho capito. Data?','Per esempio 12 marzo 1980.'],"
"     'noInput':['Non sento. Data?'],"
"     'confirmation':['Ho capito {c.birth}. Giusto?','{c.birth}, giusto?'],"
"     'notConfirmed':['Ripetiamo. Data?'],"
"     'invalid':['Data nel futuro.'],"
"     'noMillennium':['Niente 1999.'],"
"     'success':['Perfetto.']},"
"   'limits':{'notConfirmed':2,'invalid':3,'noMatch':3}}]}}}";

/* An implicit date (no declared sub-data): parent prompts for every part. */
static const char *P_IMPLICIT =
"{'format':'ddt-project/1','name':'implicit','version':'1','locale':'it-IT',"
" 'flow':{'start':'ask','nodes':["
"  {'id':'ask','tasks':[{'type':'GetData','ddt':'c'}]},"
"  {'id':'ko','tasks':[{'type':'SayMessage','text':'KO'}]}],"
"  'edges':[{'from':'ask','to':'ko','condition':'c.$status == \\'exhausted\\''}]},"
" 'ddts':{'c':{'data':["
"  {'id':'when','kind':'date',"
"   'steps':{'start':['Quando?'],'noMatch':['Come? Quando?'],"
"            'invalid':['Data impossibile.']},"
"   'limits':{'noMatch':1}}]}}}";

/* Mixed initiative: a text node with a regex layer, a date, an integer,
 * a time, an optional email and a choice. */
static const char *P_MIXED =
"{'format':'ddt-project/1','name':'mixed','version':'1','locale':'it-IT',"
" 'flow':{'start':'ask','nodes':["
"  {'id':'ask','tasks':[{'type':'GetData','ddt':'customer'}]},"
"  {'id':'ok','tasks':[{'type':'SayMessage','text':'Fine {customer.name}'}]}],"
"  'edges':[{'from':'ask','to':'ok'}]},"
" 'ddts':{'customer':{'mixedInitiative':true,'data':["
"  {'id':'name','kind':'text','label':'nome',"
"   'extract':[{'type':'regex',"
"     'pattern':'(?:sono|mi chiamo)\\\\s+(?<value>[a-z]+\\\\s+[a-z]+)'},"
"     {'type':'parser'}],"
"   'steps':{'start':['Come si chiama?'],'success':['Piacere.']}},"
"  {'id':'birthDate','kind':'date',"
"   'steps':{'start':['Quando e nato?']}},"
"  {'id':'children','kind':'integer',"
"   'steps':{'start':['Quanti figli?']}},"
"  {'id':'slot','kind':'time','confirm':'always',"
"   'steps':{'start':['A che ora?'],'confirmation':['Alle {customer.slot}?']}},"
"  {'id':'email','kind':'email','required':false,"
"   'steps':{'start':['Email?']}},"
"  {'id':'plan','kind':'choice','required':false,"
"   'choices':[{'value':'gold','synonyms':['oro']},"
"              {'value':'silver','synonyms':['argento']}],"
"   'steps':{'start':['Piano?']}}]}}}";

/* The same nodes without mixed initiative, and a plain text node. */
static const char *P_NOMIXED =
"{'format':'ddt-project/1','name':'nomixed','version':'1','locale':'it-IT',"
" 'flow':{'start':'ask','nodes':["
"  {'id':'ask','tasks':[{'type':'GetData','ddt':'customer'}]}],"
"  'edges':[]},"
" 'ddts':{'customer':{'data':["
"  {'id':'name','kind':'text','confirm':'always',"
"   'steps':{'start':['Come si chiama?'],"
"            'confirmation':['{customer.name}, giusto?']}},"
"  {'id':'birthDate','kind':'date',"
"   'steps':{'start':['Quando e nato?']}}]}}}";

/* Re-entry: the flow sets a value, then runs the GetData twice. */
static const char *P_REENTRY =
"{'format':'ddt-project/1','name':'reentry','version':'1','locale':'it-IT',"
" 'flow':{'start':'pre','nodes':["
"  {'id':'pre','tasks':[{'type':'SetVariable','name':'d.a','value':3},"
"     {'type':'GetData','ddt':'d'},"
"     {'type':'SayMessage','text':'Primo {d.a} {d.b}'},"
"     {'type':'SetVariable','name':'d.b','value':null},"
"     {'type':'GetData','ddt':'d'},"
"     {'type':'SayMessage','text':'Secondo {d.a} {d.b}'}]}],"
"  'edges':[]},"
" 'ddts':{'d':{'data':["
"  {'id':'a','kind':'integer','steps':{'start':['A?']}},"
"  {'id':'b','kind':'integer','steps':{'start':['B?']}}]}}}";

/* Kinds with DTMF rules; a yes/no and a choice. */
static const char *P_DTMF =
"{'format':'ddt-project/1','name':'keys','version':'1','locale':'it-IT',"
" 'flow':{'start':'ask','nodes':["
"  {'id':'ask','tasks':[{'type':'GetData','ddt':'k'}]}],"
"  'edges':[]},"
" 'ddts':{'k':{'data':["
"  {'id':'agree','kind':'yesno','steps':{'start':['Accetta?']}},"
"  {'id':'plan','kind':'choice',"
"   'choices':[{'value':'gold','synonyms':['oro']},"
"              {'value':'silver','synonyms':['argento']}],"
"   'steps':{'start':['Piano?']}},"
"  {'id':'day','kind':'date','confirm':'always',"
"   'steps':{'start':['Giorno?'],'confirmation':['{k.day}?']}},"
"  {'id':'at','kind':'time','steps':{'start':['Ora?']}},"
"  {'id':'price','kind':'number','steps':{'start':['Prezzo?']}}]}}}";

/* ner and llm layers. */
static const char *P_NER =
"{'format':'ddt-project/1','name':'ner','version':'1','locale':'it-IT',"
" 'flow':{'start':'ask','nodes':["
"  {'id':'ask','tasks':[{'type':'GetData','ddt':'n'}]}],"
"  'edges':[]},"
" 'ddts':{'n':{'data':["
"  {'id':'city','kind':'text','confirm':'ifUncertain',"
"   'extract':[{'type':'ner','service':'nlu','timeoutMs':800}],"
"   'steps':{'start':['Citta?'],'noMatch':['Citta, prego?'],"
"            'confirmation':['{n.city}?']}},"
"  {'id':'qty','kind':'integer',"
"   'extract':[{'type':'llm','service':'gpt'},{'type':'parser'}],"
"   'steps':{'start':['Quanti?']}}]}}}";

/* A composite with regex groups, an uncertain regex and an optional node
 * that would need confirmation. */
static const char *P_COMPOSITE =
"{'format':'ddt-project/1','name':'addr','version':'1','locale':'it-IT',"
" 'flow':{'start':'ask','nodes':["
"  {'id':'ask','tasks':[{'type':'GetData','ddt':'a'}]}],"
"  'edges':[]},"
" 'ddts':{'a':{'mixedInitiative':true,'data':["
"  {'id':'addr','kind':'composite','label':'indirizzo',"
"   'subData':["
"     {'id':'street','kind':'text','label':'via',"
"      'steps':{'start':['Quale via?']}},"
"     {'id':'city','kind':'text','label':'citta',"
"      'steps':{'start':['Quale citta?']}},"
"     {'id':'zip','kind':'postalCode','required':false}],"
"   'extract':[{'type':'regex','confidence':0.5,"
"     'pattern':'via (?<street>[a-z]+)(?: a (?<city>[a-z]+))?'}],"
"   'confirm':'ifUncertain',"
"   'steps':{'start':['Indirizzo?'],"
"            'confirmation':['{a.addr.street}, {a.addr.city}?']}},"
"  {'id':'when','kind':'date','required':false,'confirm':'always',"
"   'steps':{'start':['Quando?'],'confirmation':['{a.when}?']}}]}}}";

/* An ner layer with mixed initiative: the service may fill other nodes. */
static const char *P_NER_MI =
"{'format':'ddt-project/1','name':'nermi','version':'1','locale':'it-IT',"
" 'flow':{'start':'ask','nodes':["
"  {'id':'ask','tasks':[{'type':'GetData','ddt':'n'}]}],"
"  'edges':[]},"
" 'ddts':{'n':{'mixedInitiative':true,'data':["
"  {'id':'city','kind':'text',"
"   'extract':[{'type':'ner','service':'nlu'}],"
"   'steps':{'start':['Citta?']}},"
"  {'id':'qty','kind':'integer','steps':{'start':['Quanti?']}},"
"  {'id':'day','kind':'date','steps':{'start':['Quando?']}}]}}}";

/* A text node with a regex layer, confirmed. */
static const char *P_NAME =
"{'format':'ddt-project/1','name':'name','version':'1','locale':'it-IT',"
" 'flow':{'start':'ask','nodes':["
"  {'id':'ask','tasks':[{'type':'GetData','ddt':'p'}]}],"
"  'edges':[]},"
" 'ddts':{'p':{'data':["
"  {'id':'name','kind':'text','confirm':'always','minLength':3,"
"   'extract':[{'type':'regex',"
"     'pattern':'(?:sono|mi chiamo)\\\\s+(?<value>\\\\p{L}+\\\\s+\\\\p{L}+)'},"
"     {'type':'parser'}],"
"   'steps':{'start':['Nome?'],'invalid':['Troppo corto.'],"
"            'confirmation':['{p.name}, giusto?']}}]}}}";

/* A regex that backtracks without end on a long run of a's. */
static const char *P_REDOS =
"{'format':'ddt-project/1','name':'redos','version':'1','locale':'it-IT',"
" 'flow':{'start':'ask','nodes':["
"  {'id':'ask','tasks':[{'type':'GetData','ddt':'r'}]}],"
"  'edges':[]},"
" 'ddts':{'r':{'data':["
"  {'id':'code','kind':'text',"
"   'extract':[{'type':'regex','pattern':'^(?<value>(a|aa)+)+b'}],"
"   'steps':{'start':['Codice?'],'noMatch':['Codice, prego?']}}]}}}";

/* SPEC section 2's example DDT, as written there. */
static const char *P_SPEC =
"{'format':'ddt-project/1','name':'booking','version':'2026-11-24.1',"
" 'locale':'it-IT','variables':{'brand':'ACME'},"
" 'flow':{'start':'welcome','nodes':["
"  {'id':'welcome','tasks':["
"    {'type':'SayMessage','text':'Benvenuto in {brand}.'},"
"    {'type':'GetData','ddt':'customer'}]},"
"  {'id':'adult','tasks':[{'type':'SayMessage','text':'Grazie {customer.name}.'}]},"
"  {'id':'minor','tasks':[{'type':'TransferToOperator','queue':'minors'}]}],"
"  'edges':["
"   {'from':'welcome','to':'minor','condition':'customer.$status == \\'exhausted\\''},"
"   {'from':'welcome','to':'adult','condition':'customer.birthDate.year <= 2008'},"
"   {'from':'welcome','to':'minor'}]},"
" 'ddts':{'customer':{'mixedInitiative':true,'data':["
"  {'id':'name','kind':'text','label':'nome',"
"   'steps':{'start':['Come si chiama?']}},"
"  {'id':'birthDate','kind':'date','label':'data di nascita','confirm':'always',"
"   'subData':["
"     {'id':'day','kind':'integer','min':1,'max':31,'steps':{'start':['Che giorno?']}},"
"     {'id':'month','kind':'month','steps':{'start':['Di che mese?']}},"
"     {'id':'year','kind':'integer','min':1900,'max':2100,"
"      'steps':{'start':['Di che anno?']}}],"
"   'validate':[{'condition':'value <= today()','step':'invalid'}],"
"   'steps':{"
"     'start':['Qual è la sua data di nascita?'],"
"     'noMatch':['Non ho capito. Qual è la sua data di nascita?',"
"                'Mi dica la data, per esempio 12 marzo 1980.'],"
"     'noInput':['Non la sento. Qual è la sua data di nascita?'],"
"     'confirmation':['Ho capito {customer.birthDate}. È corretto?'],"
"     'notConfirmed':['Va bene, ripetiamo. Qual è la sua data di nascita?'],"
"     'invalid':['La data non può essere nel futuro. Me la ripete?'],"
"     'success':[]},"
"   'limits':{'noMatch':3,'noInput':3,'notConfirmed':2,'invalid':3}}]}}}";

/* ---- tests: counters, escalation, exhaustion -------------------------- */

static void
test_nomatch_escalation(void)
{
    if (load(P_COUNT) || start(NULL, NULL)) {
        return;
    }
    STATUS("waiting");
    NMSG(1);
    MSG(0, "S1", "start", 1);
    CHECK_STR(rs("messages.0.ddt"), "d");
    CHECK_STR(rs("messages.0.data"), "qty");
    CHECK(jp(R, "messages.0.sub") && jp(R, "messages.0.sub")->type == DDT_J_NULL);
    CHECK_STR(rs("expecting.step"), "start");
    CHECK_STR(rs("expecting.kind"), "integer");
    CHECK_INT(rn("expecting.escalation"), 1);

    say("boh");
    NMSG(1);
    MSG(0, "NM1", "noMatch", 1);
    CHECK_STR(rs("expecting.step"), "noMatch");
    say("non lo so");
    MSG(0, "NM2", "noMatch", 2);
    say("mah");
    MSG(0, "NM2", "noMatch", 3);       /* prompt capped, escalation not */
    CHECK_INT(rn("expecting.escalation"), 3);

    /* the fourth noMatch exhausts without a prompt */
    say("boh");
    NMSG(1);
    CHECK_STR(rs("messages.0.text"), "KO qty");
    CHECK(jp(R, "messages.0.step") == NULL);
    CHECK_STR(mem_s("d.$status"), "exhausted");
    CHECK_STR(mem_s("d.$failed"), "qty");
    CHECK(mem_absent("d.$failedSub"));
    CHECK(jp(R, "expecting") && jp(R, "expecting")->type == DDT_J_NULL);
    CHECK_STR(rs("status"), "ended");
}

static void
test_noinput_and_success(void)
{
    if (load(P_COUNT) || start(NULL, NULL)) {
        return;
    }
    event("noInput");
    MSG(0, "NI1", "noInput", 1);
    say("   ");                          /* empty text is a noInput */
    MSG(0, "NI1", "noInput", 2);
    /* counters are independent: a noMatch starts at 1 */
    event("noMatch");
    MSG(0, "NM1", "noMatch", 1);

    say("sette");
    NMSG(2);
    MSG(0, "Bene.", "success", 1);      /* success before the flow goes on */
    CHECK_STR(rs("messages.1.text"), "OK 7");
    CHECK_INT(mem_n("d.qty"), 7);
    CHECK_STR(mem_s("d.$status"), "ok");
    CHECK_STR(mem_s("d.$meta.qty.layer"), "parser");
    CHECK_INT(mem_n("d.$meta.qty.confidence"), 1);
    CHECK_STR(mem_s("d.$meta.qty.state"), "filled");
    CHECK_STR(rs("status"), "ended");
}

static void
test_noinput_exhaustion(void)
{
    if (load(P_COUNT) || start(NULL, NULL)) {
        return;
    }
    event("noInput");
    event("noInput");
    MSG(0, "NI1", "noInput", 2);
    event("noInput");                   /* limit 2 */
    CHECK_STR(rs("messages.0.text"), "KO qty");
    CHECK_STR(mem_s("d.$status"), "exhausted");
}

static void
test_invalid_limits(void)
{
    if (load(P_COUNT) || start(NULL, NULL)) {
        return;
    }
    say("40");                          /* max 10 */
    NMSG(1);
    MSG(0, "INV1", "invalid", 1);
    CHECK(mem_absent("d.qty"));
    CHECK_STR(rs("expecting.step"), "invalid");
    say("50");                          /* invalid limit 1: exhausted */
    CHECK_STR(rs("messages.0.text"), "KO qty");
    CHECK_STR(mem_s("d.$failed"), "qty");
    CHECK(mem_absent("d.qty"));
}

static void
test_limit_zero_and_fallback(void)
{
    if (load(P_ZERO) || start(NULL, NULL)) {
        return;
    }
    MSG(0, "A1", "start", 1);
    /* noInput has no prompts: start's list, indexed by noInput's n */
    event("noInput");
    MSG(0, "A1", "noInput", 1);
    /* limit 0: the first noMatch exhausts */
    say("boh");
    CHECK_STR(rs("messages.0.text"), "KO");
    CHECK_STR(mem_s("d.$status"), "exhausted");

    if (load(P_ZERO) || start(NULL, NULL)) {
        return;
    }
    say("0");                           /* no min: 0 is fine */
    CHECK_STR(mem_s("d.$status"), "ok");
    CHECK_INT(mem_n("d.qty"), 0);

    /* invalid limit 0: the first invalid value exhausts */
    if (load(P_ZERO) || start(NULL, NULL)) {
        return;
    }
    say("500");
    CHECK_STR(rs("messages.0.text"), "KO");
    CHECK(mem_absent("d.qty"));
}

static void
test_sub_rule_exhaustion(void)
{
    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    say("13 marzo 1980");
    MSG(0, "Il 13 no. Che giorno?", "invalid", 1);
    say("13");
    MSG(0, "Il 13 no. Che giorno?", "invalid", 2);
    say("il 13");
    MSG(0, "Il 13 no. Che giorno?", "invalid", 3);
    /* the day's invalid limit is its parent's (3): the parent is exhausted */
    say("13");
    CHECK_STR(rs("messages.0.text"), "KO");
    CHECK_STR(mem_s("c.$failed"), "birth");
    CHECK_STR(mem_s("c.$failedSub"), "day");
    CHECK(mem_absent("c.birth"));
    CHECK_STR(mem_s("c.$meta.birth.state"), "exhausted");
}

/* ---- tests: sub-data, partial fills ----------------------------------- */

static void
test_date_full_and_confirm(void)
{
    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    MSG(0, "Data?", "start", 1);
    say("12 marzo 1980");
    NMSG(1);
    MSG(0, "Ho capito 12 marzo 1980. Giusto?", "confirmation", 1);
    CHECK_STR(rs("expecting.step"), "confirmation");
    CHECK_STR(rs("expecting.kind"), "yesno");
    CHECK_INT(mem_n("c.birth.day"), 12);
    CHECK_INT(mem_n("c.birth.month"), 3);
    CHECK_INT(mem_n("c.birth.year"), 1980);
    CHECK_STR(mem_s("c.$meta.birth.state"), "confirming");

    /* something else: noMatch, confirmation again (SPEC 9.8) */
    say("il tempo e bello");
    MSG(0, "12 marzo 1980, giusto?", "confirmation", 2);
    event("noInput");
    MSG(0, "12 marzo 1980, giusto?", "confirmation", 3);

    say("sì");
    NMSG(2);
    MSG(0, "Perfetto.", "success", 1);
    CHECK_STR(rs("messages.1.text"), "Anno 1980");
    CHECK_STR(mem_s("c.$status"), "ok");
    CHECK_STR(mem_s("c.$meta.birth.state"), "filled");
}

static void
test_date_partial(void)
{
    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    say("marzo 1980");
    NMSG(1);
    MSG(0, "Che giorno?", "start", 1);
    CHECK_STR(rs("messages.0.sub"), "day");
    CHECK_STR(rs("expecting.sub"), "day");
    CHECK_INT(mem_n("c.birth.month"), 3);
    CHECK(mem_absent("c.birth.day"));

    /* a noMatch on the sub-data: sub.noMatch -> sub.start (fallback) */
    say("boh");
    MSG(0, "Che giorno?", "noMatch", 1);
    CHECK_STR(rs("messages.0.sub"), "day");

    say("12");
    MSG(0, "Ho capito 12 marzo 1980. Giusto?", "confirmation", 1);
}

static void
test_date_sub_fallback_to_parent(void)
{
    /* the implicit parts have no prompts: the parent's are used */
    if (load(P_IMPLICIT) || start(NULL, NULL)) {
        return;
    }
    say("marzo");
    NMSG(1);
    MSG(0, "Quando?", "start", 1);
    CHECK_STR(rs("messages.0.sub"), "day");
    say("boh");
    MSG(0, "Come? Quando?", "noMatch", 1);
    CHECK_STR(rs("messages.0.sub"), "day");
    /* the sub-data's counter is past the parent's limit: parent exhausted */
    say("boh");
    CHECK_STR(rs("messages.0.text"), "KO");
    CHECK_STR(mem_s("c.$failed"), "when");
    CHECK_STR(mem_s("c.$failedSub"), "day");
    CHECK(mem_absent("c.when"));
}

static void
test_date_parent_layers_first(void)
{
    /* SPEC 9.8: "13 marzo" while the day is asked fills day and month */
    if (load(P_IMPLICIT) || start(NULL, NULL)) {
        return;
    }
    say("1980");
    MSG(0, "Quando?", "start", 1);
    CHECK_STR(rs("messages.0.sub"), "day");
    say("13 marzo");
    CHECK_STR(rs("status"), "ended");
    CHECK_INT(mem_n("c.when.day"), 13);
    CHECK_INT(mem_n("c.when.month"), 3);
    CHECK_INT(mem_n("c.when.year"), 1980);
}

static void
test_date_part_limits(void)
{
    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    say("marzo 1980");
    say("35");                           /* day max 31: day's invalid */
    NMSG(1);
    MSG(0, "Che giorno?", "invalid", 1); /* day.invalid -> day.start */
    CHECK_STR(rs("messages.0.sub"), "day");
    CHECK(mem_absent("c.birth.day"));
    CHECK_INT(mem_n("c.birth.month"), 3);

    /* a merged date that is not on the calendar: invalid on the part
     * just given */
    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    say("febbraio 1981");
    say("30");
    MSG(0, "Che giorno?", "invalid", 1);
    CHECK(mem_absent("c.birth.day"));
    CHECK_INT(mem_n("c.birth.month"), 2);

    /* a sub-data's own invalid prompt */
    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    say("12 marzo");
    MSG(0, "Di che anno?", "start", 1);
    say("1850");
    MSG(0, "Anno tra 1900 e 2100.", "invalid", 1);
    CHECK_STR(rs("messages.0.sub"), "year");
}

/* ---- tests: validate rules -------------------------------------------- */

static void
test_validate_rules(void)
{
    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    /* the whole value: cleared, the rule's step said */
    say("12 marzo 2030");
    NMSG(1);
    MSG(0, "Data nel futuro.", "invalid", 1);
    CHECK(mem_absent("c.birth"));
    CHECK(mem_absent("c.birth.day"));
    CHECK_STR(rs("expecting.step"), "invalid");
    CHECK(jp(R, "expecting.sub")->type == DDT_J_NULL);

    /* a `sub` rule with a text: only the day goes, day asked next */
    say("13 marzo 1980");
    NMSG(1);
    MSG(0, "Il 13 no. Che giorno?", "invalid", 1);   /* day's counter */
    CHECK_STR(rs("messages.0.sub"), "day");
    CHECK(mem_absent("c.birth.day"));
    CHECK_INT(mem_n("c.birth.month"), 3);
    CHECK_INT(mem_n("c.birth.year"), 1980);
    CHECK_STR(rs("expecting.sub"), "day");

    say("14");
    MSG(0, "Ho capito 14 marzo 1980. Giusto?", "confirmation", 1);

    /* a custom step name */
    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    say("1 gennaio 1999");
    MSG(0, "Niente 1999.", "noMillennium", 1);
    CHECK_STR(rs("expecting.step"), "noMillennium");
}

static void
test_validate_exhaustion(void)
{
    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    say("12 marzo 2030");
    say("12 marzo 2031");
    MSG(0, "Data nel futuro.", "invalid", 2);
    say("12 marzo 2032");
    MSG(0, "Data nel futuro.", "invalid", 3);
    say("12 marzo 2033");               /* invalid limit 3 */
    CHECK_STR(rs("messages.0.text"), "KO");
    CHECK_STR(mem_s("c.$status"), "exhausted");
    CHECK(mem_absent("c.birth"));
}

/* ---- tests: confirmation ---------------------------------------------- */

static void
test_confirm_corrections(void)
{
    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    say("12 marzo 1980");
    say("no, il giorno è 14");
    NMSG(1);
    MSG(0, "Ho capito 14 marzo 1980. Giusto?", "confirmation", 1);
    CHECK_INT(mem_n("c.birth.day"), 14);
    CHECK_INT(mem_n("c.birth.month"), 3);

    /* a bare number fits only the day (year limits 1900-2100) */
    say("15");
    MSG(0, "Ho capito 15 marzo 1980. Giusto?", "confirmation", 1);

    /* "sì, il 15" with 15 equal to the candidate's day is a yes */
    say("sì, il 15");
    MSG(0, "Perfetto.", "success", 1);
    CHECK_INT(mem_n("c.birth.day"), 15);
    CHECK_STR(mem_s("c.$status"), "ok");
}

static void
test_confirm_correction_words(void)
{
    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    say("12 marzo 1980");
    say("il mese è aprile");
    MSG(0, "Ho capito 12 aprile 1980. Giusto?", "confirmation", 1);
    say("14 maggio");
    MSG(0, "Ho capito 14 maggio 1980. Giusto?", "confirmation", 1);
    /* a third correction: notConfirmed limit 2 exceeded */
    say("no, l'anno è 1981");
    CHECK_STR(rs("messages.0.text"), "KO");
    CHECK_STR(mem_s("c.$status"), "exhausted");
    CHECK(mem_absent("c.birth"));
}

static void
test_confirm_correction_invalid(void)
{
    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    say("12 marzo 1980");
    /* corrected into the `sub` rule: day dropped and asked */
    say("no, il giorno è 13");
    MSG(0, "Il 13 no. Che giorno?", "invalid", 1);
    CHECK_STR(rs("expecting.sub"), "day");
    CHECK(mem_absent("c.birth.day"));
    say("20");
    MSG(0, "Ho capito 20 marzo 1980. Giusto?", "confirmation", 1);
}

static void
test_confirm_plain_no(void)
{
    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    say("12 marzo 1980");
    say("no");
    NMSG(1);
    MSG(0, "Ripetiamo. Data?", "notConfirmed", 1);
    CHECK(mem_absent("c.birth"));
    CHECK_STR(rs("expecting.step"), "notConfirmed");
    say("12 marzo 1981");
    /* the candidate changed: the confirmation count starts again */
    MSG(0, "Ho capito 12 marzo 1981. Giusto?", "confirmation", 1);
    dtmf("2");
    MSG(0, "Ripetiamo. Data?", "notConfirmed", 2);
    say("12 marzo 1982");
    say("sbagliato");                   /* limit 2 */
    CHECK_STR(rs("messages.0.text"), "KO");
    CHECK_STR(mem_s("c.$failed"), "birth");
}

static void
test_confirm_text_node(void)
{
    if (load(P_NOMIXED) || start(NULL, NULL)) {
        return;
    }
    /* a text node with no regex layer takes the whole utterance */
    say("Mario Rossi");
    MSG(0, "Mario Rossi, giusto?", "confirmation", 1);
    /* a no word followed by more is a correction with the rest */
    say("no, Mario Bianchi");
    MSG(0, "Mario Bianchi, giusto?", "confirmation", 1);
    /* any other reply is a correction with the whole utterance */
    say("Luigi Verdi");
    MSG(0, "Luigi Verdi, giusto?", "confirmation", 1);
    say("sì");
    MSG(0, "Quando e nato?", "start", 1);
    CHECK_STR(mem_s("customer.name"), "Luigi Verdi");
    /* no mixed initiative: the date was not taken from the name turn */
}

static void
test_confirm_text_regex(void)
{
    if (load(P_NAME) || start(NULL, NULL)) {
        return;
    }
    say("Io");                           /* minLength 3 */
    MSG(0, "Troppo corto.", "invalid", 1);
    say("buongiorno, mi chiamo Mario Rossi");
    MSG(0, "Mario Rossi, giusto?", "confirmation", 1);
    CHECK_STR(mem_s("p.$meta.name.layer"), "regex");
    /* a correction that fails a built-in limit: invalid, asked again */
    say("no, Al");
    MSG(0, "Troppo corto.", "invalid", 2);
    CHECK(mem_absent("p.name"));
    CHECK_STR(rs("expecting.kind"), "text");
    say("sono Anna Neri");
    MSG(0, "Anna Neri, giusto?", "confirmation", 1);
    /* the correction goes through the node's layers too */
    say("no, sono Mario Bianchi");
    MSG(0, "Mario Bianchi, giusto?", "confirmation", 1);
    /* no regex match: the parser takes the whole reply; a third
     * correction is past the notConfirmed limit (2) */
    say("Luigi Verdi");
    CHECK_STR(mem_s("p.$status"), "exhausted");
    CHECK_STR(mem_s("p.$failed"), "name");
    CHECK(mem_absent("p.name"));
}

static void
test_spec_example(void)
{
    if (load(P_SPEC) || start(NULL, NULL)) {
        return;
    }
    NMSG(2);
    CHECK_STR(rs("messages.0.text"), "Benvenuto in ACME.");
    MSG(1, "Come si chiama?", "start", 1);

    /* name has no regex layer: it takes the whole utterance and consumes
     * no span, so the date is found too and waits for confirmation */
    say("Mario Rossi");
    MSG(0, "Qual è la sua data di nascita?", "start", 1);
    say("12 marzo 1980");
    MSG(0, "Ho capito 12 marzo 1980. È corretto?", "confirmation", 1);
    /* a bare 13 fits only the day */
    say("13");
    MSG(0, "Ho capito 13 marzo 1980. È corretto?", "confirmation", 1);
    CHECK_INT(mem_n("customer.birthDate.day"), 13);
    say("no, il giorno è 12");
    MSG(0, "Ho capito 12 marzo 1980. È corretto?", "confirmation", 1);
    /* the notConfirmed limit (2) is reached by two corrections: a third
     * one would exhaust; a yes that repeats the day is a yes */
    say("sì, il 12");
    NMSG(1);                             /* success is empty */
    CHECK_STR(rs("messages.0.text"), "Grazie Mario Rossi.");
    CHECK_STR(mem_s("customer.$status"), "ok");
    CHECK_STR(rs("status"), "ended");
}

static void
test_spec_example_mixed(void)
{
    if (load(P_SPEC) || start(NULL, NULL)) {
        return;
    }
    say("sono Mario Rossi, nato il 12 marzo 1980");
    CHECK_STR(mem_s("customer.name"), "sono Mario Rossi, nato il 12 marzo 1980");
    NMSG(1);
    MSG(0, "Ho capito 12 marzo 1980. È corretto?", "confirmation", 1);
    say("no, il giorno è 13");
    MSG(0, "Ho capito 13 marzo 1980. È corretto?", "confirmation", 1);
    say("sì, il 13");
    CHECK_STR(rs("messages.0.text"), "Grazie sono Mario Rossi, nato il 12 "
              "marzo 1980.");

    /* exhausted: the flow goes on along its edges (to the operator) */
    if (load(P_SPEC) || start(NULL, NULL)) {
        return;
    }
    say("Anna");
    event("noInput");
    MSG(0, "Non la sento. Qual è la sua data di nascita?", "noInput", 1);
    event("noInput");
    event("noInput");
    MSG(0, "Non la sento. Qual è la sua data di nascita?", "noInput", 3);
    event("noInput");
    CHECK_STR(rs("status"), "transferred");
    CHECK_STR(rs("actions.0.type"), "transfer");
    CHECK_STR(mem_s("customer.$failed"), "birthDate");
    CHECK_STR(mem_s("customer.name"), "Anna");   /* the others keep theirs */
}

static void
test_spec_example_en(void)
{
    if (load(P_SPEC) || start(NULL, "en-US")) {
        return;
    }
    say("Mary Smith");
    say("March 12, 1980");
    MSG(0, "Ho capito March 12, 1980. È corretto?", "confirmation", 1);
    say("no, the day is 13");
    MSG(0, "Ho capito March 13, 1980. È corretto?", "confirmation", 1);
    say("the month is April");
    MSG(0, "Ho capito April 13, 1980. È corretto?", "confirmation", 1);
    say("that's right");
    CHECK_STR(rs("messages.0.text"), "Grazie Mary Smith.");
    CHECK_INT(mem_n("customer.birthDate.month"), 4);
}

/* ---- tests: mixed initiative ------------------------------------------ */

static void
test_mixed_initiative(void)
{
    if (load(P_MIXED) || start(NULL, NULL)) {
        return;
    }
    MSG(0, "Come si chiama?", "start", 1);
    say("sono Mario Rossi, nato il 12 marzo 1980");
    NMSG(2);
    MSG(0, "Piacere.", "success", 1);
    MSG(1, "Quanti figli?", "start", 1);
    CHECK_STR(mem_s("customer.name"), "Mario Rossi");
    CHECK_STR(mem_s("customer.$meta.name.layer"), "regex");
    CHECK_INT(mem_n("customer.birthDate.day"), 12);
    CHECK_INT(mem_n("customer.birthDate.year"), 1980);
    CHECK_STR(mem_s("customer.$meta.birthDate.layer"), "parser");

    /* a bare number never fills a non-active node; a time word does,
     * and a time needing confirmation waits in memory */
    say("2, alle 15:30");
    CHECK_INT(mem_n("customer.children"), 2);
    CHECK_INT(mem_n("customer.slot.hour"), 15);
    CHECK_STR(mem_s("customer.$meta.slot.state"), "confirming");
    /* selection reaches it: straight to confirmation */
    NMSG(1);
    MSG(0, "Alle 15:30?", "confirmation", 1);
    say("sì");
    CHECK_STR(rs("status"), "ended");
    CHECK(mem_absent("customer.email"));   /* optional: never asked */
}

static void
test_mixed_bare_number(void)
{
    if (load(P_MIXED) || start(NULL, NULL)) {
        return;
    }
    say("sono Mario Rossi e ho 3 figli");
    MSG(1, "Quando e nato?", "start", 1);
    CHECK(mem_absent("customer.children"));

    /* nothing for the active node, something for another: not a noMatch,
     * the active node is asked with its start again */
    say("la mia email è mario.rossi@example.com");
    NMSG(1);
    MSG(0, "Quando e nato?", "start", 2);
    CHECK_STR(mem_s("customer.email"), "mario.rossi@example.com");
    /* an optional choice from its synonym */
    say("vorrei il piano oro");
    MSG(0, "Quando e nato?", "start", 3);
    CHECK_STR(mem_s("customer.plan"), "gold");
    say("boh");
    MSG(0, "Quando e nato?", "noMatch", 1);
}

static void
test_text_node_without_regex(void)
{
    if (load(P_NOMIXED) || start(NULL, NULL)) {
        return;
    }
    say("sono nato il 12 marzo 1980");
    /* the whole utterance, and no mixed initiative */
    MSG(0, "sono nato il 12 marzo 1980, giusto?", "confirmation", 1);
    CHECK(mem_absent("customer.birthDate"));
}

/* ---- tests: values input ---------------------------------------------- */

static void
test_values_input(void)
{
    if (load(P_MIXED) || start(NULL, NULL)) {
        return;
    }
    /* unknown key: 400 bad_input, nothing changes */
    values("{'nope':1}");
    CHECK_INT(HTTP, 400);
    CHECK_STR(ERR.code, "bad_input");
    values("{'birthDate.week':1}");
    CHECK_INT(HTTP, 400);
    /* a confidence that is not a number from 0 to 1 */
    values("{'name':{'value':'Anna','confidence':2}}");
    CHECK_INT(HTTP, 400);
    values("{'name':{'value':'Anna','confidence':'high'}}");
    CHECK_INT(HTTP, 400);
    CHECK_STR(ERR.code, "bad_input");

    /* a non-active node, whatever mixedInitiative says: ISO date */
    values("{'birthDate':'1980-03-12'}");
    CHECK_INT(HTTP, 200);
    MSG(0, "Come si chiama?", "start", 2);
    CHECK_INT(mem_n("customer.birthDate.month"), 3);
    CHECK_STR(mem_s("customer.$meta.birthDate.layer"), "values");

    /* the active node with a confidence, parts by id.sub elsewhere */
    values("{'name':{'value':'Anna Neri','confidence':0.4},"
           "'children':'due'}");
    MSG(0, "Piacere.", "success", 1);
    CHECK_STR(mem_s("customer.name"), "Anna Neri");
    CHECK_INT(mem_n("customer.$meta.name.confidence") * 10, 4);
    CHECK_INT(mem_n("customer.children"), 2);
    MSG(1, "A che ora?", "start", 1);

    /* nothing usable is a noMatch */
    values("{'slot':'mai'}");
    MSG(0, "A che ora?", "noMatch", 1);
    values("{'slot':'15:30'}");
    MSG(0, "Alle 15:30?", "confirmation", 1);
    /* another node only: it is filled, the confirmation is said again */
    values("{'email':'anna@example.com'}");
    MSG(0, "Alle 15:30?", "confirmation", 2);
    CHECK_STR(mem_s("customer.email"), "anna@example.com");
    /* while confirming, values are a correction */
    values("{'slot':{'hour':16,'minute':0}}");
    MSG(0, "Alle 16:00?", "confirmation", 1);
    values("{'slot':'16:00'}");           /* equal to the candidate: a yes */
    CHECK_STR(rs("status"), "ended");
}

static void
test_values_sub_and_invalid(void)
{
    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    values("{'birth.month':3,'birth.year':1980}");
    MSG(0, "Che giorno?", "start", 1);
    values("{'birth.day':40}");          /* outside the part's limits */
    MSG(0, "Che giorno?", "invalid", 1);
    values("{'birth.day':12}");
    MSG(0, "Ho capito 12 marzo 1980. Giusto?", "confirmation", 1);
}

/* ---- tests: re-entry, optional ---------------------------------------- */

static void
test_reentry(void)
{
    if (load(P_REENTRY) || start(NULL, NULL)) {
        return;
    }
    /* a already in memory: skipped */
    NMSG(1);
    MSG(0, "B?", "start", 1);
    say("quattro");
    /* the second run: a still filled, b set to null is asked again */
    NMSG(2);
    CHECK_STR(rs("messages.0.text"), "Primo 3 4");
    MSG(1, "B?", "start", 1);            /* counts restart per GetData */
    /* set to null: asked afresh, its old $meta gone */
    CHECK_STR(mem_s("d.$meta.b.state"), "asking");
    CHECK(mem_absent("d.$meta.b.layer"));
    CHECK_STR(mem_s("d.$meta.a.state"), "filled");
    say("5");
    CHECK_STR(rs("messages.0.text"), "Secondo 3 5");
    CHECK_STR(rs("status"), "ended");
}

static void
test_nothing_to_ask(void)
{
    if (load(P_REENTRY)
        || start("{'d':{'a':1,'b':2}}", NULL))
    {
        return;
    }
    /* both values there: the first GetData completes without waiting;
     * the second asks b again */
    CHECK_STR(rs("messages.0.text"), "Primo 3 2");
    MSG(1, "B?", "start", 1);
}

/* ---- tests: DTMF ------------------------------------------------------ */

static void
test_dtmf(void)
{
    if (load(P_DTMF) || start(NULL, NULL)) {
        return;
    }
    CHECK_STR(rs("expecting.kind"), "yesno");
    dtmf("3");
    MSG(0, "Accetta?", "noMatch", 1);
    dtmf("1");
    CHECK(mem("k.agree") && mem("k.agree")->type == DDT_J_BOOL
          && mem("k.agree")->u.b == 1);
    MSG(0, "Piano?", "start", 1);
    dtmf("2#");
    CHECK_STR(mem_s("k.plan"), "silver");
    MSG(0, "Giorno?", "start", 1);
    dtmf("12031980");
    MSG(0, "12 marzo 1980?", "confirmation", 1);
    dtmf("1");
    CHECK_INT(mem_n("k.day.year"), 1980);
    MSG(0, "Ora?", "start", 1);
    dtmf("1530");
    CHECK_INT(mem_n("k.at.hour"), 15);
    CHECK_INT(mem_n("k.at.minute"), 30);
    dtmf("12*5");
    CHECK_INT(mem_n("k.price") * 10, 125);
    CHECK_STR(rs("status"), "ended");
}

static void
test_dtmf_sub(void)
{
    if (load(P_IMPLICIT) || start(NULL, NULL)) {
        return;
    }
    say("marzo");
    CHECK_STR(rs("expecting.sub"), "day");
    /* keys are the text for an integer part */
    dtmf("12");
    CHECK_INT(mem_n("c.when.day"), 12);
    CHECK_STR(rs("expecting.sub"), "year");
    dtmf("1980");
    CHECK_INT(mem_n("c.when.year"), 1980);
    CHECK_STR(rs("status"), "ended");

    /* eight keys while a part is asked: the whole date (missing parts) */
    if (load(P_IMPLICIT) || start(NULL, NULL)) {
        return;
    }
    say("1975");
    dtmf("05061975");
    CHECK_INT(mem_n("c.when.day"), 5);
    CHECK_INT(mem_n("c.when.month"), 6);
    CHECK_STR(rs("status"), "ended");
}

static void
test_dtmf_en(void)
{
    if (load(P_DTMF) || start(NULL, "en-US")) {
        return;
    }
    dtmf("2");
    CHECK(mem("k.agree") && mem("k.agree")->type == DDT_J_BOOL
          && mem("k.agree")->u.b == 0);
    dtmf("1");
    dtmf("03121980");                    /* mmddyyyy */
    CHECK_INT(mem_n("k.day.day"), 12);
    CHECK_INT(mem_n("k.day.month"), 3);
    MSG(0, "March 12, 1980?", "confirmation", 1);
    say("yes");
    MSG(0, "Ora?", "start", 1);
}

/* ---- tests: ner / llm ------------------------------------------------- */

static void
resume(int status, const char *error, const char *body)
{
    ddt_effect_result_t  er;

    memset(&er, 0, sizeof(er));
    er.status = status;
    er.error = error;
    er.body = body ? q(body) : NULL;
    er.body_len = body ? strlen(er.body) : 0;
    ddt_turn_result_free(&RES);
    ddt_turn_result_init(&RES);
    R = NULL;
    if (ddt_turn_resume(P, S, &er, &RES, &ERR) != DDT_OK) {
        CHECK_MSG(0, "resume: %s", ERR.message);
        return;
    }
    R = parse_response();
}

static void
test_ner_llm(void)
{
    if (load(P_NER) || start(NULL, NULL)) {
        return;
    }
    say("abito a Torino");
    CHECK_INT(RES.need_effect, 1);
    CHECK_INT(RES.effect.purpose, DDT_EFFECT_FOR_NER);
    CHECK_STR(RES.effect.url, "nlu");
    CHECK_INT(RES.effect.timeout_ms, 800);
    CHECK(RES.effect.body != NULL
          && strstr(RES.effect.body, "\"utterance\":\"abito a Torino\"")
          && strstr(RES.effect.body, "\"locale\":\"it-IT\"")
          && strstr(RES.effect.body, "\"id\":\"city\""));

    /* low confidence with ifUncertain: confirmation */
    resume(200, NULL, "{'values':{'city':'Torino'},'confidence':0.5}");
    CHECK_INT(RES.need_effect, 0);
    MSG(0, "Torino?", "confirmation", 1);
    CHECK_STR(mem_s("n.$meta.city.layer"), "ner");
    say("sì");
    MSG(0, "Quanti?", "start", 1);

    /* the llm fails: the next layer (parser) is tried */
    say("tre");
    CHECK_INT(RES.need_effect, 1);
    CHECK_INT(RES.effect.purpose, DDT_EFFECT_FOR_LLM);
    CHECK_STR(RES.effect.url, "gpt");
    resume(0, "timeout", NULL);
    CHECK_INT(mem_n("n.qty"), 3);
    CHECK_STR(mem_s("n.$meta.qty.layer"), "parser");
    CHECK_STR(rs("status"), "ended");
}

static void
test_ner_nothing(void)
{
    if (load(P_NER) || start(NULL, NULL)) {
        return;
    }
    say("boh");
    CHECK_INT(RES.need_effect, 1);
    resume(200, NULL, "{'values':{}}");
    MSG(0, "Citta, prego?", "noMatch", 1);
    say("Milano");
    resume(200, NULL, "{'values':{'city':'Milano'},'confidence':0.95}");
    /* certain enough: no confirmation */
    CHECK_STR(mem_s("n.city"), "Milano");
    MSG(0, "Quanti?", "start", 1);
}

/* ---- tests: composite, uncertainty, optional, state ------------------- */

static void
test_composite_regex(void)
{
    if (load(P_COMPOSITE) || start(NULL, NULL)) {
        return;
    }
    MSG(0, "Indirizzo?", "start", 1);
    /* one group: a partial value, the next missing part is asked */
    say("abito in via Roma");
    NMSG(1);
    MSG(0, "Quale citta?", "start", 1);
    CHECK_STR(rs("messages.0.sub"), "city");
    CHECK_STR(mem_s("a.addr.street"), "Roma");
    CHECK_STR(mem_s("a.$meta.addr.sub.street.layer"), "regex");
    CHECK_INT(mem_n("a.$meta.addr.sub.street.confidence") * 10, 5);
    /* the sub-data's own layers (text): the whole utterance; the regex
     * confidence 0.5 < 0.7 asks for confirmation */
    say("Torino");
    MSG(0, "Roma, Torino?", "confirmation", 1);
    /* a correction naming a part by its label */
    say("no, la citta è Milano");
    MSG(0, "Roma, Milano?", "confirmation", 1);
    CHECK(mem_absent("a.addr.zip"));      /* optional part: never asked */
    say("esatto");
    CHECK_STR(rs("status"), "ended");
    CHECK_STR(mem_s("a.$status"), "ok");
    CHECK(mem_absent("a.when"));          /* optional node: never asked */
}

static void
test_optional_not_confirmed(void)
{
    if (load(P_COMPOSITE) || start(NULL, NULL)) {
        return;
    }
    /* an optional node filled by mixed initiative is never confirmed */
    say("via Verdi a Roma, dal 3 marzo 2020");
    CHECK_INT(mem_n("a.when.day"), 3);
    CHECK_STR(mem_s("a.$meta.when.state"), "filled");
    MSG(0, "Verdi, Roma?", "confirmation", 1);
}

static void
test_calendar_in_one_utterance(void)
{
    if (load(P_IMPLICIT) || start(NULL, NULL)) {
        return;
    }
    /* impossible inside one utterance: no value (a noMatch) */
    say("31 febbraio 1980");
    MSG(0, "Come? Quando?", "noMatch", 1);
    CHECK(mem_absent("c.when"));
}

static void
test_state_round_trip(void)
{
    ddt_buf_t       b;
    ddt_session_t  *s2 = NULL;
    ddt_err_t       err;

    if (load(P_DATE) || start(NULL, NULL)) {
        return;
    }
    say("marzo 1980");
    say("12");
    MSG(0, "Ho capito 12 marzo 1980. Giusto?", "confirmation", 1);
    say("boh");
    MSG(0, "12 marzo 1980, giusto?", "confirmation", 2);

    /* a store keeps the state; another worker goes on from it */
    ddt_buf_init(&b);
    CHECK_INT(ddt_session_save(S, &b), DDT_OK);
    CHECK_INT(ddt_session_load(b.data, b.len, &s2, &err), DDT_OK);
    ddt_buf_free(&b);
    if (s2 == NULL) {
        return;
    }
    ddt_session_free(S);
    S = s2;
    event("noMatch");
    MSG(0, "12 marzo 1980, giusto?", "confirmation", 3);
    say("giusto");
    MSG(0, "Perfetto.", "success", 1);
}

static void
test_mixed_bare_numbers(void)
{
    if (load(P_MIXED) || start(NULL, NULL)) {
        return;
    }
    /* bare numbers go to no other node, whatever its kind */
    say("sono Anna Neri, 9");
    CHECK(mem_absent("customer.slot"));
    CHECK(mem_absent("customer.children"));
    CHECK(mem_absent("customer.birthDate"));
    CHECK_STR(mem_s("customer.name"), "Anna Neri");
}

static void
test_ner_mixed(void)
{
    if (load(P_NER_MI) || start(NULL, NULL)) {
        return;
    }
    say("a Roma il 3 maggio 2027, tre persone");
    CHECK_INT(RES.need_effect, 1);
    /* the other unfilled nodes are listed after the one asked */
    CHECK(RES.effect.body != NULL
          && strstr(RES.effect.body, "\"id\":\"qty\"")
          && strstr(RES.effect.body, "\"id\":\"day\""));
    resume(200, NULL, "{'values':{'city':'Roma','qty':3,"
           "'day':{'value':'2027-05-03','confidence':0.9}},'confidence':0.8}");
    /* city from the service; day too (a date is open to mixed
     * initiative); qty is an integer: never filled by mixed initiative */
    CHECK_STR(mem_s("n.city"), "Roma");
    CHECK_INT(mem_n("n.day.month"), 5);
    CHECK_INT(mem_n("n.$meta.day.confidence") * 10, 9);
    CHECK_STR(mem_s("n.$meta.day.layer"), "ner");
    CHECK(mem_absent("n.qty"));
    MSG(0, "Quanti?", "start", 1);
}

static void
test_regex_limits(void)
{
    char  buf[256];

    if (load(P_REDOS) || start(NULL, NULL)) {
        return;
    }
    /* a match that hits the PCRE2 limits yields no value: a noMatch */
    memset(buf, 'a', 200);
    buf[200] = 'c';
    buf[201] = '\0';
    say(buf);
    MSG(0, "Codice, prego?", "noMatch", 1);
    say("aab");
    CHECK_STR(mem_s("r.code"), "aa");
}

/* SPEC 3.1, 9.6: a time is {hour, minute}; "alle 3" gives no minute (no
 * marker), so it is no value, never {"hour": 3} in memory */
static void
test_time_needs_minute(void)
{
    if (load("{'format':'ddt-project/1','name':'tm','version':'1',"
             "'locale':'it-IT','flow':{'start':'a','nodes':[{'id':'a',"
             "'tasks':[{'type':'GetData','ddt':'k'}]}],'edges':[]},"
             "'ddts':{'k':{'data':[{'id':'at','kind':'time',"
             "'steps':{'start':['Ora?'],'noMatch':['Ora, di nuovo?']}}]}}}")
        || start(NULL, NULL))
    {
        return;
    }
    say("alle 3");
    MSG(0, "Ora, di nuovo?", "noMatch", 1);
    CHECK(mem_absent("k.at"));
    say("alle tre in punto");
    CHECK_INT(mem_n("k.at.hour"), 3);
    CHECK_INT(mem_n("k.at.minute"), 0);
    STATUS("ended");
}

/* SPEC 9.6: a composite reads its parts joined by ", " -- in the order of
 * its sub-data, whatever order a regex's groups gave them */
static void
test_composite_part_order(void)
{
    if (load("{'format':'ddt-project/1','name':'co','version':'1',"
             "'locale':'it-IT','flow':{'start':'a','nodes':[{'id':'a',"
             "'tasks':[{'type':'GetData','ddt':'k'}]}],'edges':[]},"
             "'ddts':{'k':{'data':[{'id':'addr','kind':'composite',"
             "'confirm':'always','extract':[{'type':'regex','pattern':"
             "'via (?<street>[a-z]+) (?<number>[0-9]+) a (?<city>[a-z]+)'}],"
             "'subData':[{'id':'street','kind':'text'},"
             "{'id':'number','kind':'integer'},{'id':'city','kind':'text'}],"
             "'steps':{'start':['Indirizzo?'],"
             "'confirmation':['{k.addr}?']}}]}}}")
        || start(NULL, NULL))
    {
        return;
    }
    say("via roma 12 a torino");
    MSG(0, "roma, 12, torino?", "confirmation", 1);
}

/* SPEC 9.4: DTMF that is not 8 digits on a date is text, so "1980" fills
 * the year as the text "1980" does */
static void
test_dtmf_date_bare_year(void)
{
    if (load("{'format':'ddt-project/1','name':'dy','version':'1',"
             "'locale':'it-IT','flow':{'start':'a','nodes':[{'id':'a',"
             "'tasks':[{'type':'GetData','ddt':'k'}]}],'edges':[]},"
             "'ddts':{'k':{'data':[{'id':'b','kind':'date',"
             "'steps':{'start':['Data?']}}]}}}")
        || start(NULL, NULL))
    {
        return;
    }
    dtmf("1980");
    CHECK_INT(mem_n("k.b.year"), 1980);
    MSG(0, "Data?", "start", 1);
    CHECK_STR(rs("expecting.sub"), "day");
}

/* SPEC 9.2: `values` take ISO 8601 strings for date and time: a date-time
 * gives its date, a time with seconds its hour and minute */
static void
test_values_iso_forms(void)
{
    if (load("{'format':'ddt-project/1','name':'vi','version':'1',"
             "'locale':'it-IT','flow':{'start':'a','nodes':[{'id':'a',"
             "'tasks':[{'type':'GetData','ddt':'k'}]}],'edges':[]},"
             "'ddts':{'k':{'data':[{'id':'b','kind':'date',"
             "'steps':{'start':['Data?']}},{'id':'t','kind':'time',"
             "'steps':{'start':['Ora?']}}]}}}")
        || start(NULL, NULL))
    {
        return;
    }
    values("{'b':'1980-03-12T10:00:00+01:00','t':'15:30:00'}");
    CHECK_INT(mem_n("k.b.day"), 12);
    CHECK_INT(mem_n("k.b.month"), 3);
    CHECK_INT(mem_n("k.b.year"), 1980);
    CHECK_INT(mem_n("k.t.hour"), 15);
    CHECK_INT(mem_n("k.t.minute"), 30);
    STATUS("ended");
}

/* SPEC 9.3: a calendar-impossible date inside one utterance is no value;
 * its day is not taken as a bare part ("31/02/1980" is a noMatch) */
static void
test_impossible_numeric_date(void)
{
    if (load("{'format':'ddt-project/1','name':'ic','version':'1',"
             "'locale':'it-IT','flow':{'start':'a','nodes':[{'id':'a',"
             "'tasks':[{'type':'GetData','ddt':'k'}]}],'edges':[]},"
             "'ddts':{'k':{'data':[{'id':'b','kind':'date',"
             "'steps':{'start':['Data?'],'noMatch':['Non ho capito.']}}]}}}")
        || start(NULL, NULL))
    {
        return;
    }
    say("31/02/1980");
    MSG(0, "Non ho capito.", "noMatch", 1);
    CHECK(mem_absent("k.b"));
    say("1980");
    CHECK_INT(mem_n("k.b.year"), 1980);
    CHECK_STR(rs("expecting.sub"), "day");
}

int
main(void)
{
    ddt_arena_init(&A, 64 * 1024);
    ddt_turn_result_init(&RES);

    test_nomatch_escalation();
    test_noinput_and_success();
    test_noinput_exhaustion();
    test_invalid_limits();
    test_limit_zero_and_fallback();
    test_sub_rule_exhaustion();
    test_date_full_and_confirm();
    test_date_partial();
    test_date_sub_fallback_to_parent();
    test_date_parent_layers_first();
    test_date_part_limits();
    test_validate_rules();
    test_validate_exhaustion();
    test_confirm_corrections();
    test_confirm_correction_words();
    test_confirm_correction_invalid();
    test_confirm_plain_no();
    test_confirm_text_node();
    test_spec_example();
    test_spec_example_mixed();
    test_spec_example_en();
    test_confirm_text_regex();
    test_mixed_initiative();
    test_mixed_bare_number();
    test_text_node_without_regex();
    test_values_input();
    test_values_sub_and_invalid();
    test_reentry();
    test_nothing_to_ask();
    test_dtmf();
    test_dtmf_en();
    test_dtmf_sub();
    test_ner_llm();
    test_ner_nothing();
    test_ner_mixed();
    test_regex_limits();
    test_composite_regex();
    test_optional_not_confirmed();
    test_calendar_in_one_utterance();
    test_state_round_trip();
    test_mixed_bare_numbers();
    test_time_needs_minute();
    test_composite_part_order();
    test_dtmf_date_bare_year();
    test_values_iso_forms();
    test_impossible_numeric_date();

    done();
    ddt_turn_result_free(&RES);
    ddt_arena_free(&A);
    return T_DONE();
}
