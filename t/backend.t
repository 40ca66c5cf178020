# t/backend.t: host effects over HTTP (SPEC 7, 9.7): a BackendCall is a
# subrequest to an nginx location with the task's method, headers and
# rendered JSON body; `assign` copies parts of the answer into memory;
# $backend.status / $backend.error report status, timeout, non-JSON and
# too-large answers; onError "fail" ends the session with status error and
# backend_failed.  An llm extraction layer goes through `ddt_service`, and a
# failing service falls through to the next layer.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;
use File::Temp ();

no_shuffle();

# an answer over the 1 MiB limit, served as a static file
our $Big = File::Temp->new(SUFFIX => '.json');
print $Big '{"pad": "' . ('x' x (1024 * 1024 + 100)) . '"}';
close $Big;
chmod 0644, $Big->filename;
$ENV{TEST_NGINX_BIG_FILE} = $Big->filename;

our $Origins = <<'_EOC_';
    # BackendCall urls are /api/<what>; they reach /origin/<what> by proxy
    # so the answer can show the method, a header and the body it got
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/origin/;
        proxy_set_header X-Body $request_body;
    }
    location = /origin/echo {
        default_type application/json;
        return 200 '{"method": "$request_method", "hdr": "$http_x_test", "body": $http_x_body}';
    }
    location = /origin/fail {
        default_type application/json;
        return 500 '{"oops": true}';
    }
    location = /origin/notjson {
        default_type text/plain;
        return 200 'hello';
    }
    location = /origin/slow {
        limit_rate 20;
        default_type application/json;
        return 200 '{"pad": "......................................................................................................"}';
    }
    location = /origin/big {
        # the static handler refuses POST: answer the file as for a GET
        default_type application/json;
        alias $TEST_NGINX_BIG_FILE;
        error_page 405 =200 /origin/big;
    }
_EOC_

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/calls.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/callfail.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/nlu.json;
    ddt_service nlu /nlu;
_EOC_
    config => $DDTTest::ApiConfig . $Origins . <<'_EOC_',
    location = /nlu {
        default_type application/json;
        return 200 '{"values": {"city": "Torino"}, "confidence": 0.9}';
    }
_EOC_
    more_headers => "Content-Type: application/json",
    timeout => 10,
);

sub turn { my ($id, $body) = @_; "POST /v1/sessions/$id/turns\n$body" }

run_tests();

__DATA__

=== TEST 1: BackendCall sends method, headers and the rendered body; assign fills memory
--- request eval
[
"POST /v1/sessions\n{\"project\": \"calls\", \"sessionId\": \"call-echo-0001\"}",
main::turn("call-echo-0001", '{"text": "echo"}'),
"GET /v1/sessions/call-echo-0001",
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { version => 2, status => 'waiting',
   'messages.0.text' => 'status=200 error= method=POST hdr=h-echo name=echo' },
 { 'memory.res.method' => 'POST', 'memory.res.hdr' => 'h-echo',
   'memory.res.body' => { name => 'echo', n => 3, tags => ['a', 'b'] },
   'memory.$backend.status' => 200, 'memory.$backend.error' => undef },
]
--- no_error_log
[error]



=== TEST 2: a status outside 2xx is $backend.error "status" and the flow goes on
--- request eval
[
"POST /v1/sessions\n{\"project\": \"calls\", \"sessionId\": \"call-fail-0001\"}",
main::turn("call-fail-0001", '{"text": "fail"}'),
main::turn("call-fail-0001", '{"text": "missing"}'),
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'waiting', 'messages.0.text' => qr/^status=500 error=status / },
 { status => 'waiting', 'messages.0.text' => qr/^status=404 error=status / },
]



=== TEST 3: an answer that is not JSON while assign is used is "bad_json"
--- request eval
[
"POST /v1/sessions\n{\"project\": \"calls\", \"sessionId\": \"call-njs-0001\"}",
main::turn("call-njs-0001", '{"text": "notjson"}'),
]
--- error_code eval
[201, 200]
--- json eval
[ undef, { 'messages.0.text' => qr/^status=200 error=bad_json / } ]
--- no_error_log
[error]



=== TEST 4: a backend slower than timeoutMs: "timeout", status 0, answered in time, connection free
--- request eval
[
"POST /v1/sessions\n{\"project\": \"calls\", \"sessionId\": \"call-slow-0001\"}",
"GET /v1/sessions/call-slow-0001",
]
--- error_code eval
[201, 200]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        my ($turn, $health) = DDTTest::keepalive(8,
            DDTTest::raw_request('POST', '/v1/sessions/call-slow-0001/turns',
                                 '{"text": "slow"}'),
            DDTTest::raw_request('GET', '/v1/health'));
        my $j = DDTTest::decode($turn->[0]{body}) || {};
        Test::More::is($turn->[0]{code}, 200, "$name - the turn is answered");
        Test::More::like($j->{messages}[0]{text} // '', qr/^status=0 error=timeout /,
                         "$name - \$backend says timeout");
        Test::More::ok($turn->[1] >= 0.9 && $turn->[1] < 3,
                       "$name - the turn took about timeoutMs ($turn->[1] s)");
        Test::More::is($health->[0]{code}, 200,
                       "$name - the next request on the connection is answered");
        Test::More::ok($health->[1] < 1,
                       "$name - without waiting for the abandoned backend ($health->[1] s)");
    },
}
--- json eval
[ undef, { version => 2, 'memory.$backend.error' => 'timeout' } ]



=== TEST 5: an answer over 1 MiB is "too_large"
--- request eval
[
"POST /v1/sessions\n{\"project\": \"calls\", \"sessionId\": \"call-big-00001\"}",
main::turn("call-big-00001", '{"text": "big"}'),
]
--- error_code eval
[201, 200]
--- json eval
[ undef, { 'messages.0.text' => qr/^status=200 error=too_large / } ]



=== TEST 6: onError "fail": status error, backend_failed, the session is closed
--- request eval
[
"POST /v1/sessions\n{\"project\": \"callfail\", \"sessionId\": \"call-hard-0001\"}",
main::turn("call-hard-0001", '{"text": "fail"}'),
main::turn("call-hard-0001", '{"text": "again"}'),
"GET /v1/sessions/call-hard-0001",
]
--- error_code eval
[201, 200, 410, 200]
--- json eval
[
 undef,
 { status => 'error', version => 2, expecting => undef, actions => [],
   'messages.#' => 1, 'messages.0.text' => 'Calling.',
   'error.code' => 'backend_failed', 'error.message' => qr/\S/ },
 { 'error.code' => 'session_closed' },
 { status => 'error', 'memory.$backend.status' => 500 },
]



=== TEST 7: onError "fail" with a good answer goes on
--- request eval
[
"POST /v1/sessions\n{\"project\": \"callfail\", \"sessionId\": \"call-hard-0002\"}",
main::turn("call-hard-0002", '{"text": "echo"}'),
]
--- error_code eval
[201, 200]
--- json eval
[ undef, { status => 'ended', 'messages.0.text' => 'Calling.',
           'messages.1.text' => 'Never said when the call fails.',
           'actions.0.type' => 'endCall' } ]
--- no_error_log
[error]



=== TEST 8: an llm layer answers through ddt_service
--- request eval
[
"POST /v1/sessions\n{\"project\": \"nlu\", \"sessionId\": \"call-nlu-00001\"}",
main::turn("call-nlu-00001", '{"text": "abito a Torino"}'),
"GET /v1/sessions/call-nlu-00001",
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 { 'messages.0.text' => 'In che città abita?' },
 { status => 'ended', 'messages.0.text' => 'Città: Torino.' },
 { 'memory.where.city' => 'Torino', 'memory.where.$meta.city.layer' => 'llm' },
]
--- no_error_log
[error]



=== TEST 9: a failing llm service falls through to the next layer
--- config eval
$DDTTest::ApiConfig . $main::Origins . <<'_EOC_'
    location = /nlu {
        return 503;
    }
_EOC_
--- request eval
[
"POST /v1/sessions\n{\"project\": \"nlu\", \"sessionId\": \"call-nlu-00002\"}",
main::turn("call-nlu-00002", '{"text": "abito a Torino"}'),
"GET /v1/sessions/call-nlu-00002",
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'ended', 'messages.0.text' => 'Città: abito a Torino.' },
 { 'memory.where.$meta.city.layer' => 'parser' },
]
