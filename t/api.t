# t/api.t: every endpoint of SPEC 6 on its happy path (sessions, turns,
# GET/DELETE, projects, health, metrics, admin GET), with the response shapes
# of SPEC 9.4 and 9.8.  Errors are in t/errors.t.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;

no_shuffle();

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/booking.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/bye.json;
_EOC_
    config => $DDTTest::ApiConfig,
    more_headers => "Content-Type: application/json",
);

run_tests();

__DATA__

=== TEST 1: health answers 200 with the embedded store
--- request
GET /v1/health
--- error_code: 200
--- no_error_log
[error]



=== TEST 2: GET /v1/projects lists every loaded project with its row fields
--- request
GET /v1/projects
--- json eval
{
    'projects.#' => 3,
    'projects.0.name' => qr/^(echo|booking|bye)$/,
    'projects.0.version' => '<present>',
    'projects.0.checksum' => qr/^\S+$/,
    'projects.0.loadedAt' => '<present>',
    'projects.0.size' => qr/^[1-9]\d*$/,
    'projects.0.current' => \1,
}
--- response_headers_like
Content-Type: application/json.*
--- no_error_log
[error]



=== TEST 3: creating a session runs the flow to the first prompt (201, version 1)
--- request
POST /v1/sessions
{"project": "booking", "sessionId": "api-create-0001"}
--- error_code: 201
--- json eval
{
    'sessionId' => 'api-create-0001',
    'version' => 1,
    'status' => 'waiting',
    'messages.#' => 2,
    'messages.0.text' => 'Benvenuto in ACME.',
    'messages.0.node' => 'welcome',
    'messages.1.text' => 'Come si chiama?',
    'messages.1.ddt' => 'customer',
    'messages.1.data' => 'name',
    'messages.1.sub' => undef,
    'messages.1.step' => 'start',
    'messages.1.escalation' => 1,
    'actions' => [],
    'expecting.ddt' => 'customer',
    'expecting.data' => 'name',
    'expecting.sub' => undef,
    'expecting.step' => 'start',
    'expecting.kind' => 'text',
    'expecting.escalation' => 1,
    'durable' => '<absent>',
}
--- response_headers_like
Content-Type: application/json.*
--- no_error_log
[error]



=== TEST 4: a generated sessionId is 128-bit random base64url
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\"}",
"POST /v1/sessions\n{\"project\": \"echo\"}",
]
--- error_code eval
[201, 201]
--- json eval
[
 { sessionId => qr/^[A-Za-z0-9_-]{22}$/, version => 1, status => 'waiting' },
 { sessionId => qr/^[A-Za-z0-9_-]{22}$/, version => 1, status => 'waiting' },
]
--- after eval
{
    0 => sub { $main::first_id = DDTTest::decode($_[1])->{sessionId} },
    1 => sub {
        Test::More::isnt(DDTTest::decode($_[1])->{sessionId},
                         $main::first_id, "@{[$_[0]->name]} - two ids differ");
    },
}
--- no_error_log
[error]



=== TEST 5: session variables merge over the project's and a locale can be chosen
--- request
POST /v1/sessions
{"project": "booking", "sessionId": "api-vars-0001", "variables": {"brand": "Zeta"}, "locale": "en-US"}
--- error_code: 201
--- json eval
{ 'messages.0.text' => 'Benvenuto in Zeta.', version => 1 }
--- no_error_log
[error]



=== TEST 6: a turn answers 200 with the next version; GET shows the state
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"api-turn-0001\"}",
"POST /v1/sessions/api-turn-0001/turns\n{\"text\": \"hello there\"}",
"GET /v1/sessions/api-turn-0001",
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 { version => 1, 'messages.0.text' => 'Say something.' },
 {
   sessionId => 'api-turn-0001', version => 2, status => 'waiting',
   'messages.#' => 2,
   'messages.0.text' => 'You said hello there.',
   'messages.0.node' => 'say',
   'messages.1.text' => 'Say something.',
   'messages.1.step' => 'start',
   'messages.1.escalation' => 1,
   'expecting.data' => 'what',
   actions => [],
 },
 {
   sessionId => 'api-turn-0001', project => 'echo', projectVersion => '1',
   status => 'waiting', version => 2,
   'memory.echo.what' => undef,
   'expecting.ddt' => 'echo', 'expecting.data' => 'what',
   'expecting.step' => 'start',
 },
]
--- no_error_log
[error]



=== TEST 7: GET does not advance the dialogue
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"api-get-00001\"}",
"GET /v1/sessions/api-get-00001",
"GET /v1/sessions/api-get-00001",
"POST /v1/sessions/api-get-00001/turns\n{\"text\": \"x\"}",
]
--- error_code eval
[201, 200, 200, 200]
--- json eval
[ { version => 1 }, { version => 1 }, { version => 1 }, { version => 2 } ]
--- no_error_log
[error]



=== TEST 8: GET memory is nested objects with the DDT's status
--- request eval
[
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"api-mem-00001\"}",
"POST /v1/sessions/api-mem-00001/turns\n{\"text\": \"Anna Verdi\"}",
"GET /v1/sessions/api-mem-00001",
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { 'expecting.data' => 'birthDate', 'expecting.step' => 'start',
   'expecting.kind' => 'date' },
 {
   'memory.customer.name' => 'Anna Verdi',
   'memory.brand' => 'ACME',
   'memory.customer.birthDate' => '<absent>',
   'memory.customer.$meta.name.layer' => qr/^(parser|regex)$/,
 },
]
--- no_error_log
[error]



=== TEST 9: DELETE answers 204, then the session is gone
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"api-del-00001\"}",
"DELETE /v1/sessions/api-del-00001",
"GET /v1/sessions/api-del-00001",
"POST /v1/sessions/api-del-00001/turns\n{\"text\": \"x\"}",
]
--- error_code eval
[201, 204, 404, 404]
--- response_body_like eval
[ '"sessionId"', '^$', '"session_not_found"', '"session_not_found"' ]
--- no_error_log
[error]



=== TEST 10: a flow that ends at once: 201 with status ended, endCall, expecting null
--- request eval
[
"POST /v1/sessions\n{\"project\": \"bye\", \"sessionId\": \"api-bye-00001\"}",
"GET /v1/sessions/api-bye-00001",
]
--- error_code eval
[201, 200]
--- json eval
[
 { status => 'ended', version => 1, expecting => undef,
   'messages.0.text' => 'Nothing to do. Bye.', 'messages.0.node' => 'only',
   'actions.#' => 1, 'actions.0.type' => 'endCall' },
 { status => 'ended', version => 1, expecting => undef },
]
--- no_error_log
[error]



=== TEST 11: turnId makes a turn idempotent (replay answers the stored response)
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"api-tid-00001\"}",
"POST /v1/sessions/api-tid-00001/turns\n{\"text\": \"one\", \"turnId\": \"t-1\"}",
"POST /v1/sessions/api-tid-00001/turns\n{\"text\": \"one\", \"turnId\": \"t-1\"}",
"GET /v1/sessions/api-tid-00001",
"POST /v1/sessions/api-tid-00001/turns\n{\"text\": \"two\", \"turnId\": \"t-2\"}",
"POST /v1/sessions/api-tid-00001/turns\n{\"text\": \"one\", \"turnId\": \"t-1\"}",
]
--- error_code eval
[201, 200, 200, 200, 200, 200]
--- json eval
[
 undef,
 { version => 2, 'messages.0.text' => 'You said one.' },
 { version => 2, 'messages.0.text' => 'You said one.' },
 { version => 2 },
 { version => 3, 'messages.0.text' => 'You said two.' },
 { version => 2, 'messages.0.text' => 'You said one.' },
]
--- after eval
{
    1 => sub { $main::first = $_[1] },
    2 => sub {
        Test::More::is($_[1], $main::first,
                       "@{[$_[0]->name]} - the replay is the stored response");
    },
}
--- no_error_log
[error]



=== TEST 12: metrics are Prometheus text with turns, a latency histogram and sessions
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"api-met-00001\"}",
"POST /v1/sessions/api-met-00001/turns\n{\"text\": \"x\"}",
"GET /metrics",
]
--- error_code eval
[201, 200, 200]
--- response_headers_like eval
[ "Content-Type: application/json.*", "Content-Type: application/json.*",
  "Content-Type: text/plain.*" ]
--- response_body_like eval
[
 '"version"',
 '"version"',
 '(?m)^# TYPE ddt_\w+ (counter|gauge|histogram)$(?s:.*)^ddt_\w*turn\w*(\{[^}]*\})? [1-9](?s:.*)_bucket\{[^}]*le="\+Inf"\}(?s:.*)^ddt_\w*session\w*(\{[^}]*\})? \d',
]
--- no_error_log
[error]



=== TEST 13: the admin location answers GET /v1/projects/{name}
--- request
GET /v1/projects/echo
--- error_code: 200
--- response_body_like: "echo"
--- no_error_log
[error]



=== TEST 14: Content-Type with a charset is accepted
--- request
POST /v1/sessions
{"project": "echo", "sessionId": "api-ctype-0001"}
--- more_headers
Content-Type: application/json; charset=utf-8
--- error_code: 201
--- json eval
{ version => 1 }
--- no_error_log
[error]



=== TEST 15: a turn body near the 64k default limit is accepted
--- request eval
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"api-big-00001\"}"
--- error_code: 201
--- after eval
{
    0 => sub {
        my $text = 'a' x 60000;
        my $r = DDTTest::http('POST', '/v1/sessions/api-big-00001/turns',
                              "{\"text\": \"$text\"}");
        Test::More::is($r->{code}, 200, "@{[$_[0]->name]} - 60000-byte turn is 200");
        Test::More::like($r->{body}, qr/You said a{60000}\./,
                         "@{[$_[0]->name]} - the text went through whole");
    },
}
--- no_error_log
[error]



=== TEST 16: events, dtmf and values are turn inputs too
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"api-inp-00001\"}",
"POST /v1/sessions/api-inp-00001/turns\n{\"event\": \"noInput\"}",
"POST /v1/sessions/api-inp-00001/turns\n{\"event\": \"noMatch\"}",
"POST /v1/sessions/api-inp-00001/turns\n{\"dtmf\": \"42#\"}",
"POST /v1/sessions/api-inp-00001/turns\n{\"values\": {\"what\": \"from nlu\"}}",
"POST /v1/sessions/api-inp-00001/turns\n{\"text\": \"   \"}",
]
--- error_code eval
[201, 200, 200, 200, 200, 200]
--- json eval
[
 undef,
 { version => 2, 'messages.0.step' => 'noInput', 'messages.0.escalation' => 1,
   'messages.0.text' => 'Say something.' },
 { version => 3, 'messages.0.step' => 'noMatch', 'messages.0.escalation' => 1 },
 { version => 4, 'messages.0.text' => 'You said 42.' },
 { version => 5, 'messages.0.text' => 'You said from nlu.' },
 { version => 6, 'messages.0.step' => 'noInput' },
]
--- no_error_log
[error]



=== TEST 17: pipelined requests on one keep-alive connection (create, turn, GET)
--- pipelined_requests eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"api-pipe-0001\"}",
"POST /v1/sessions/api-pipe-0001/turns\n{\"text\": \"piped\"}",
"GET /v1/sessions/api-pipe-0001",
]
--- error_code eval
[201, 200, 200]
--- json eval
[ { version => 1 }, { version => 2, 'messages.0.text' => 'You said piped.' },
  { version => 2 } ]
--- no_error_log
[error]



=== TEST 18: a body that arrives in pieces, with pauses, is read whole
--- request eval
[[
"POST /v1/sessions\n{\"project\": \"ec",
{ value => "ho\", \"sessionId\": \"api-slow-0001\", ", delay_before => 0.3 },
{ value => "\"variables\": {\"x\": 1}}", delay_before => 0.3 },
]]
--- error_code: 201
--- json eval
{ sessionId => 'api-slow-0001', version => 1 }
--- no_error_log
[error]



=== TEST 19: a session remembers its last 16 turnIds
--- request eval
my $id = "api-tid16-001";
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"$id\"}",
(map { "POST /v1/sessions/$id/turns\n{\"text\": \"w$_\", \"turnId\": \"k$_\"}" } 1 .. 17),
"POST /v1/sessions/$id/turns\n{\"text\": \"w2\", \"turnId\": \"k2\"}",
"POST /v1/sessions/$id/turns\n{\"text\": \"w1\", \"turnId\": \"k1\"}",
]
--- error_code eval
[201, (200) x 17, 200, 200]
--- json eval
[
 undef,
 (map { { version => $_ + 1 } } 1 .. 17),
 { version => 3, 'messages.0.text' => 'You said w2.' },
 { version => 19, 'messages.0.text' => 'You said w1.' },
]
--- no_error_log
[error]
