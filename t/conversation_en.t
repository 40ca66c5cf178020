# t/conversation_en.t: an English (en-US) conversation over HTTP: a date
# with confirmation and a correction ("no, the day is 13"), a time, the
# summary rendered in en-US formats (March 13, 2027 / 3:30 PM) and EndCall.
# Also a `text` validate rule, values and DTMF yes.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;

no_shuffle();

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/dentist.json;
_EOC_
    config => $DDTTest::ApiConfig,
    more_headers => "Content-Type: application/json",
);

sub turn { my ($id, $body) = @_; "POST /v1/sessions/$id/turns\n$body" }

run_tests();

__DATA__

=== TEST 1: a whole English conversation with a correction in confirmation
--- request eval
my $id = "en-conv-0001";
[
"POST /v1/sessions\n{\"project\": \"dentist\", \"sessionId\": \"$id\"}",
main::turn($id, '{"text": "March 12, 2027"}'),
main::turn($id, '{"text": "no, the day is 13"}'),
main::turn($id, '{"text": "yes"}'),
main::turn($id, '{"text": "at 3:30 PM"}'),
"GET /v1/sessions/$id",
]
--- error_code eval
[201, 200, 200, 200, 200, 200]
--- json eval
[
 { version => 1, status => 'waiting', 'messages.#' => 2,
   'messages.0.text' => 'Welcome to Smile Dental.',
   'messages.0.node' => 'hello',
   'messages.1.text' => 'Which day would you like to come in?',
   'messages.1.ddt' => 'visit', 'messages.1.data' => 'day',
   'messages.1.step' => 'start',
   'expecting.data' => 'day', 'expecting.kind' => 'date' },
 { version => 2, 'messages.#' => 1,
   'messages.0.text' => 'So that is March 12, 2027. Is that right?',
   'messages.0.step' => 'confirmation', 'messages.0.escalation' => 1,
   'expecting.kind' => 'yesno', 'expecting.step' => 'confirmation' },
 { version => 3, 'messages.#' => 1,
   'messages.0.text' => 'So that is March 13, 2027. Is that right?',
   'messages.0.step' => 'confirmation' },
 { version => 4, 'messages.#' => 1,
   'messages.0.text' => 'At what time?',
   'messages.0.data' => 'time', 'messages.0.step' => 'start',
   'expecting.data' => 'time', 'expecting.kind' => 'time' },
 { version => 5, status => 'ended', expecting => undef,
   'messages.#' => 2,
   'messages.0.text' => 'Booked on March 13, 2027 at 3:30 PM.',
   'messages.0.node' => 'done',
   'messages.1.text' => 'Goodbye.',
   'actions' => [ { type => 'endCall' } ] },
 { status => 'ended', version => 5, projectVersion => 't-1',
   'memory.visit.day' => { day => 13, month => 3, year => 2027 },
   'memory.visit.time' => { hour => 15, minute => 30 },
   'memory.visit.$status' => 'ok',
   'memory.clinic' => 'Smile Dental' },
]
--- no_error_log
[error]



=== TEST 2: a plain no clears the date and asks again with notConfirmed
--- request eval
my $id = "en-conv-0002";
[
"POST /v1/sessions\n{\"project\": \"dentist\", \"sessionId\": \"$id\"}",
main::turn($id, '{"text": "March 12, 2027"}'),
main::turn($id, '{"text": "no"}'),
main::turn($id, '{"text": "April 2, 2027"}'),
main::turn($id, '{"dtmf": "1"}'),
]
--- error_code eval
[201, 200, 200, 200, 200]
--- json eval
[
 undef,
 undef,
 { version => 3, 'messages.0.text' => 'Sorry about that. Which day then?',
   'messages.0.step' => 'notConfirmed', 'messages.0.escalation' => 1,
   'expecting.kind' => 'date' },
 { 'messages.0.text' => 'So that is April 2, 2027. Is that right?' },
 { 'messages.0.text' => 'At what time?' },
]
--- no_error_log
[error]



=== TEST 3: a validate rule with a text says it as the invalid step
--- request eval
my $id = "en-conv-0003";
[
"POST /v1/sessions\n{\"project\": \"dentist\", \"sessionId\": \"$id\"}",
main::turn($id, '{"text": "March 12, 2020"}'),
]
--- error_code eval
[201, 200]
--- json eval
[
 undef,
 { 'messages.0.text' => 'That date is in the past. Which day?',
   'messages.0.step' => 'invalid', 'messages.0.escalation' => 1,
   'expecting.data' => 'day' },
]
--- no_error_log
[error]



=== TEST 4: values fill both nodes; the session locale changes formatting only
--- request eval
my $id = "en-conv-0004";
[
"POST /v1/sessions\n{\"project\": \"dentist\", \"sessionId\": \"$id\", \"locale\": \"it-IT\"}",
main::turn($id, '{"values": {"day": "2027-03-12", "time": "15:30"}}'),
main::turn($id, '{"text": "sì"}'),
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 { 'messages.0.text' => 'Welcome to Smile Dental.' },
 { 'messages.0.text' => 'So that is 12 marzo 2027. Is that right?' },
 { status => 'ended', 'messages.0.text' => 'Booked on 12 marzo 2027 at 15:30.' },
]
--- no_error_log
[error]
