# t/conversation_it.t: an Italian conversation from start to end over HTTP
# (SPEC 2, 4, 9.1-9.4): welcome, a text node, a date with a noMatch, the
# confirmation, a correction ("no, il giorno è 13"), the yes, the flow edge
# and EndCall; then GET, a turn on the closed session (410) and a replay of
# the last turnId (200 even after the end).  Also invalid (a future date),
# noInput and exhaustion to TransferToOperator.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;

no_shuffle();

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/booking.json;
_EOC_
    config => $DDTTest::ApiConfig,
    more_headers => "Content-Type: application/json",
);

sub turn { my ($id, $body) = @_; "POST /v1/sessions/$id/turns\n$body" }

run_tests();

__DATA__

=== TEST 1: a whole Italian conversation with a correction in confirmation
--- request eval
my $id = "it-conv-0001";
[
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"$id\"}",
main::turn($id, '{"text": "Mario Rossi"}'),
main::turn($id, '{"text": "boh"}'),
main::turn($id, '{"text": "12 marzo 1980"}'),
main::turn($id, '{"text": "no, il giorno è 13"}'),
main::turn($id, '{"text": "sì", "turnId": "ultimo"}'),
"GET /v1/sessions/$id",
main::turn($id, '{"text": "pronto?"}'),
main::turn($id, '{"text": "sì", "turnId": "ultimo"}'),
]
--- error_code eval
[201, 200, 200, 200, 200, 200, 200, 410, 200]
--- json eval
[
 { version => 1, status => 'waiting',
   'messages.0.text' => 'Benvenuto in ACME.',
   'messages.1.text' => 'Come si chiama?',
   'expecting.data' => 'name' },
 { version => 2, status => 'waiting', 'messages.#' => 1,
   'messages.0.text' => 'Qual è la sua data di nascita?',
   'messages.0.ddt' => 'customer', 'messages.0.data' => 'birthDate',
   'messages.0.step' => 'start', 'messages.0.escalation' => 1,
   'expecting.data' => 'birthDate', 'expecting.step' => 'start',
   'expecting.kind' => 'date' },
 { version => 3, 'messages.#' => 1,
   'messages.0.text' => 'Non ho capito. Qual è la sua data di nascita?',
   'messages.0.step' => 'noMatch', 'messages.0.escalation' => 1,
   'expecting.step' => 'noMatch', 'expecting.escalation' => 1 },
 { version => 4, 'messages.#' => 1,
   'messages.0.text' => 'Ho capito 12 marzo 1980. È corretto?',
   'messages.0.step' => 'confirmation', 'messages.0.escalation' => 1,
   'expecting.step' => 'confirmation', 'expecting.kind' => 'yesno' },
 { version => 5, 'messages.#' => 1,
   'messages.0.text' => 'Ho capito 13 marzo 1980. È corretto?',
   'messages.0.step' => 'confirmation',
   'expecting.kind' => 'yesno' },
 { version => 6, status => 'ended', expecting => undef,
   'messages.#' => 1,
   'messages.0.text' => 'Grazie Mario Rossi, nato il 13 marzo 1980.',
   'messages.0.node' => 'adult',
   'actions.#' => 1, 'actions.0.type' => 'endCall' },
 { sessionId => 'it-conv-0001', project => 'booking',
   projectVersion => 't-1', status => 'ended', version => 6,
   expecting => undef,
   'memory.customer.name' => 'Mario Rossi',
   'memory.customer.birthDate' => { day => 13, month => 3, year => 1980 },
   'memory.customer.$status' => 'ok',
   'memory.brand' => 'ACME' },
 { 'error.code' => 'session_closed' },
 { version => 6, status => 'ended',
   'messages.0.text' => 'Grazie Mario Rossi, nato il 13 marzo 1980.' },
]
--- no_error_log
[error]



=== TEST 2: a yes by DTMF 1 confirms; a partial date asks for the missing part
--- request eval
my $id = "it-conv-0002";
[
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"$id\"}",
main::turn($id, '{"text": "Lucia Bianchi"}'),
main::turn($id, '{"text": "3 febbraio"}'),
main::turn($id, '{"text": "1988"}'),
main::turn($id, '{"dtmf": "1"}'),
"GET /v1/sessions/$id",
]
--- error_code eval
[201, 200, 200, 200, 200, 200]
--- json eval
[
 undef,
 undef,
 { version => 3, 'expecting.data' => 'birthDate', 'expecting.sub' => 'year' },
 { version => 4, 'messages.0.text' => 'Ho capito 3 febbraio 1988. È corretto?',
   'expecting.kind' => 'yesno' },
 { version => 5, status => 'ended', 'actions.0.type' => 'endCall',
   'messages.0.text' => 'Grazie Lucia Bianchi, nato il 3 febbraio 1988.' },
 { 'memory.customer.birthDate' => { day => 3, month => 2, year => 1988 } },
]
--- no_error_log
[error]



=== TEST 3: a date in the future is invalid and is asked again
--- request eval
my $id = "it-conv-0003";
[
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"$id\"}",
main::turn($id, '{"text": "Mario Rossi"}'),
main::turn($id, '{"text": "12 marzo 2030"}'),
"GET /v1/sessions/$id",
]
--- error_code eval
[201, 200, 200, 200]
--- json eval
[
 undef,
 undef,
 { version => 3, status => 'waiting',
   'messages.0.text' => 'La data non può essere nel futuro. Me la ripete?',
   'messages.0.step' => 'invalid', 'messages.0.escalation' => 1,
   'expecting.data' => 'birthDate' },
 { 'memory.customer.birthDate' => '<absent>' },
]
--- no_error_log
[error]



=== TEST 4: noInput, then noMatch past the limit exhausts: transfer to an operator
--- request eval
my $id = "it-conv-0004";
[
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"$id\"}",
main::turn($id, '{"text": "Mario Rossi"}'),
main::turn($id, '{"event": "noInput"}'),
main::turn($id, '{"text": "boh"}'),
main::turn($id, '{"text": "mah"}'),
main::turn($id, '{"text": "non so"}'),
"GET /v1/sessions/$id",
]
--- error_code eval
[201, 200, 200, 200, 200, 200, 200]
--- json eval
[
 undef,
 undef,
 { 'messages.0.text' => 'Non la sento. Qual è la sua data di nascita?',
   'messages.0.step' => 'noInput', 'messages.0.escalation' => 1 },
 { 'messages.0.step' => 'noMatch', 'messages.0.escalation' => 1 },
 { 'messages.0.text' => 'Mi dica la data, per esempio 12 marzo 1980.',
   'messages.0.step' => 'noMatch', 'messages.0.escalation' => 2 },
 { version => 6, status => 'transferred', expecting => undef,
   'messages.0.text' => 'La passo a un operatore.',
   'actions.#' => 1, 'actions.0.type' => 'transfer',
   'actions.0.queue' => 'minors' },
 { status => 'transferred',
   'memory.customer.$status' => 'exhausted',
   'memory.customer.$failed' => 'birthDate',
   'memory.customer.name' => 'Mario Rossi' },
]
--- no_error_log
[error]



=== TEST 5: values from an external NLU go through validation and confirmation
--- request eval
my $id = "it-conv-0005";
[
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"$id\"}",
main::turn($id, '{"values": {"name": "Paolo Neri", "birthDate": "1975-06-02"}}'),
main::turn($id, '{"text": "esatto"}'),
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { 'messages.0.text' => 'Ho capito 2 giugno 1975. È corretto?',
   'expecting.kind' => 'yesno' },
 { status => 'ended',
   'messages.0.text' => 'Grazie Paolo Neri, nato il 2 giugno 1975.' },
]
--- no_error_log
[error]
