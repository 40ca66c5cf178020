# t/fuzz.t: malformed bodies never crash or hang a worker (issue 4, SPEC 6
# "No input crashes a worker"): a few hundred mutated bodies (flipped,
# inserted and deleted bytes, truncation, invalid UTF-8, deep nesting, huge
# numbers, wrong shapes) against session create, turns and the admin PUT.
# Each answer must be a JSON error or a success, never a 5xx; the error log
# must show no crash; health stays 200.  Fixed seed: failures reproduce.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;

no_shuffle();
# production shape: a crashing worker is respawned and logged ("exited on
# signal"), which the blocks look for
master_on();
workers(2);

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/booking.json;
_EOC_
    config => $DDTTest::ApiConfig,
    more_headers => "Content-Type: application/json",
    timeout => 10,
);

our @SEEDS = (
    '{"project": "echo", "sessionId": "fuzz-new-0001", "variables": {"a": [1, 2.5, "x"], "b": {"c": null}}, "locale": "en-US"}',
    '{"text": "Mario Rossi", "turnId": "t-1"}',
    '{"values": {"birthDate": "1980-03-12", "name": {"value": "Ada", "confidence": 0.9}}}',
    '{"dtmf": "12#"}',
    '{"event": "noInput"}',
    '{"text": "il 12 marzo 1980 alle 15:30, € 50,00"}',
);

our @JUNK = ("\x00", "\xFF", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
             "\\u", "\\ud800", "\\uDFFF", "\"", "\\", "{", "}", "[", "]", ",",
             ":", "1e999", "-", "0x10", "NaN", "true", "null", "\xEF\xBB\xBF",
             "\xE2\x80\xA8", "\t", "\r\n");

sub mutate {
    my $s = shift;
    my $n = 1 + int rand 4;
    for (1 .. $n) {
        my $op = int rand 6;
        my $at = int rand(length($s) + 1);
        if ($op == 0) {
            substr($s, $at, 1) = chr(int rand 256) if $at < length $s;
        } elsif ($op == 1) {
            substr($s, $at, 0) = $JUNK[int rand @JUNK];
        } elsif ($op == 2) {
            substr($s, $at, 1 + int rand 8) = '' if $at < length $s;
        } elsif ($op == 3) {
            $s = substr($s, 0, $at);
        } elsif ($op == 4) {
            my $d = 1 + int rand 300;
            substr($s, $at, 0) = ('[' x $d) . (']' x (rand 2 < 1 ? $d : 0));
        } else {
            substr($s, $at, 0) = '"' . ('9' x (1 + int rand 400)) . '"';
        }
    }
    return $s;
}

sub fuzz_requests {
    srand 20261126;
    my @reqs;
    for my $i (1 .. 300) {
        my $seed = $SEEDS[int rand @SEEDS];
        my $body = mutate($seed);
        my $target = $i % 3 == 0 ? '/v1/sessions'
                   : $i % 7 == 0 ? '/v1/sessions/fuzz-booking-01/turns'
                   : '/v1/sessions/fuzz-echo-0001/turns';
        $target = '/v1/projects/echo' if $i % 29 == 0;
        my $method = $target =~ m{^/v1/projects/} ? 'PUT' : 'POST';
        push @reqs, "$method $target\n$body";
    }
    return [
        "POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"fuzz-echo-0001\"}",
        "POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"fuzz-booking-01\"}",
        @reqs,
        "GET /v1/health",
        "GET /v1/sessions/fuzz-echo-0001",
        "POST /v1/sessions/fuzz-echo-0001/turns\n{\"text\": \"alive\"}",
    ];
}

# Valid JSON of random shape: it passes the JSON layer and reaches input
# checks, session options and the engine (mixed types, odd strings, unknown
# keys, nesting, big and tiny numbers).
our @KEYS = qw(text dtmf event values turnId project sessionId variables
               locale name birthDate x);
our @STRS = ('', ' ', 'sì', 'no', '12 marzo 1980', '13', 'Mario Rossi',
             "\u00e8\u0301", "\ud83d\ude00", '1#', '*#', 'noInput',
             'noMatch', 'echo', 'booking', 'it-IT', 'en-US', '$x',
             'fuzz-echo-0001', '1980-03-12', '15:30', 'x' x 3000,
             "\u0000", "a\nb", '{', 'null');

sub rand_value {
    my $depth = shift;
    my $r = int rand($depth > 3 ? 5 : 7);
    return '"' . $STRS[int rand @STRS] . '"' if $r == 0 || $r == 1;
    return (qw(0 -1 1.5 1e308 -1e-308 12 31 2147483648 0.0000001))[int rand 9]
        if $r == 2;
    return (qw(true false null))[int rand 3] if $r == 3;
    return '"' . $STRS[int rand @STRS] . '"' if $r == 4;
    return '[' . join(',', map { rand_value($depth + 1) } 1 .. int rand 4) . ']'
        if $r == 5;
    return rand_object($depth + 1);
}

sub rand_object {
    my $depth = shift;
    my %seen;
    my @keys = grep { !$seen{$_}++ } map { $KEYS[int rand @KEYS] } 0 .. int rand 4;
    return '{' . join(',', map { "\"$_\":" . rand_value($depth) } @keys) . '}';
}

sub shaped_requests {
    srand 1126;
    my @reqs;
    for my $i (1 .. 200) {
        my $target = $i % 4 == 0 ? '/v1/sessions'
                   : $i % 3 == 0 ? '/v1/sessions/fuzz-booking-02/turns'
                   : '/v1/sessions/fuzz-echo-0002/turns';
        my $body = rand_object(0);
        if ($target =~ /turns$/ && rand() < 0.7) {
            # one well-typed input, so most of these reach the engine
            my $k = (qw(text text dtmf event values))[int rand 5];
            my $v = $k eq 'text' ? '"' . $STRS[int rand @STRS] . '"'
                  : $k eq 'dtmf' ? '"' . ('1', '2', '3', '12031980', '1530', '*5', '0#')[int rand 7] . '"'
                  : $k eq 'event' ? '"' . (qw(noInput noMatch))[int rand 2] . '"'
                  : '{' . join(',', map { "\"$_\":" . rand_value(2) }
                                grep { rand() < 0.6 } qw(name birthDate what)) . '}';
            $body = "{\"$k\": $v" . (rand() < 0.3 ? ", \"turnId\": \"f" . int(rand 5) . "\"" : '') . '}';
        }
        push @reqs, "POST $target\n$body";
    }
    return [
        "POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"fuzz-echo-0002\"}",
        "POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"fuzz-booking-02\"}",
        @reqs,
        "GET /v1/health",
        "GET /v1/sessions/fuzz-booking-02",
    ];
}

run_tests();

__DATA__

=== TEST 1: three hundred malformed bodies: no 5xx, no crash, health stays 200
--- log_level: warn
--- request eval
main::fuzz_requests()
--- error_code_like eval
[ '^201$', '^201$', ('^(200|201|400|404|409|410|413|415|422)$') x 300,
  '^200$', '^200$', '^200$' ]
--- response_body_like eval
[ '"sessionId"', '"sessionId"', ('^\{') x 300, '.?', '"fuzz-echo-0001"',
  'You said alive\.' ]
--- no_error_log
exited on signal
[alert]
[crit]
[emerg]
AddressSanitizer



=== TEST 2: bodies cut at every length never hang a request
--- log_level: warn
--- request eval
my $body = '{"project": "echo", "sessionId": "fuzz-cut-00001", "variables": {"x": [1, {"y": "\u00e8"}]}}';
[ map { "POST /v1/sessions\n" . substr($body, 0, $_) } 1 .. length($body) - 1 ]
--- error_code_like eval
[ ('^400$') x 91 ]
--- response_body_like eval
[ ('"bad_json"') x 91 ]
--- no_error_log
exited on signal
[alert]



=== TEST 3: two hundred well-formed bodies of random shape: JSON answers, no 5xx, no crash
--- log_level: warn
--- request eval
main::shaped_requests()
--- error_code_like eval
[ '^201$', '^201$', ('^(200|201|400|404|409|410|413|415|422)$') x 200,
  '^200$', '^200$' ]
--- response_body_like eval
[ '"sessionId"', '"sessionId"', ('^\{"') x 200, '.?', '"fuzz-booking-02"' ]
--- no_error_log
exited on signal
[alert]
[crit]
[emerg]
