--TEST--
sendMany() over every kind of iterable: array, generator, ArrayIterator, IteratorAggregate, PDO statement, references; a generator that throws stops the batch with its own exception and keeps what was sent; a generator left unfinished is not resumed past the last token used
--EXTENSIONS--
pdo
pdo_sqlite
--SKIPIF--
<?php
if (!extension_loaded('apns')) die('skip apns not loaded');
if (!extension_loaded('pdo_sqlite')) die('skip pdo_sqlite not available (apt-get install php8.2-sqlite3, or scripts/deps-examples)');
?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$sb = apns_sandbox_start();
$c = new ApnsConnection($sb['binary'], apns_options($sb));
$p = '{"aps":{"alert":"iterables"}}';
$tokens = array_map('apns_token', range(1, 50));

function tokens_from(array $tokens): Generator
{
    foreach ($tokens as $key => $t) {
        yield "key-$key" => $t;             // string keys: sendMany reads only the values
    }
}

final class TokenList implements IteratorAggregate
{
    public function __construct(private array $tokens) {}
    public function getIterator(): Iterator { return new ArrayIterator($this->tokens); }
}

$db = new PDO('sqlite::memory:');
$db->exec('CREATE TABLE devices (token TEXT)');
$insert = $db->prepare('INSERT INTO devices VALUES (?)');
foreach ($tokens as $t) {
    $insert->execute([$t]);
}

$byRef = $tokens;
foreach ($byRef as &$ref) {
}
unset($ref);

$sources = [
    'array' => $tokens,
    'generator with string keys' => tokens_from($tokens),
    'ArrayIterator' => new ArrayIterator($tokens),
    'IteratorAggregate' => new TokenList($tokens),
    'PDO statement' => (function () use ($db) {
        $s = $db->query('SELECT token FROM devices ORDER BY rowid');
        $s->setFetchMode(PDO::FETCH_COLUMN, 0);
        return $s;
    })(),
    'array of references' => $byRef,
];
$before = 0;
foreach ($sources as $name => $source) {
    $r = $c->sendMany($source, $p);
    $rows = apns_log($sb);
    $new = array_column(array_slice($rows, $before), 'token');
    $before = count($rows);
    printf("%s: sent=%d failed=%d logged in order=%s\n", $name, $r['sent'], count($r['failed']),
        $new === $tokens ? 'yes' : 'NO');
}

// A generator that throws after 20 tokens: its exception comes out of sendMany()
// unchanged, and the 20 taken before are delivered, not lost.
function failing(array $tokens): Generator
{
    foreach ($tokens as $i => $t) {
        if ($i === 20) {
            throw new RuntimeException('the database went away');
        }
        yield $t;
    }
}
try {
    $c->sendMany(failing($tokens), $p);
    echo "no exception\n";
} catch (RuntimeException $e) {
    printf("%s: %s\n", get_class($e), $e->getMessage());
}
$c->flush();
$rows = apns_log($sb);
$new = array_column(array_slice($rows, $before), 'token');
$before = count($rows);
apns_check('the 20 tokens before the exception were delivered', $new === array_slice($tokens, 0, 20), (string) count($new));

// Not a Traversable or array: a TypeError naming the argument, nothing sent.
try {
    $c->sendMany(42, $p);
} catch (TypeError $e) {
    echo "TypeError: ", $e->getMessage(), "\n";
}

// Non-string values are failures of their own; the batch goes on.
$r = $c->sendMany([apns_token(60), 12345, null, apns_token(61)], $p);
printf("mixed: sent=%d failed=%d (%s)\n", $r['sent'], count($r['failed']),
    implode('; ', array_map(fn ($f) => $f['reason'], $r['failed'])));

// A progress callback that throws ends the batch with its exception, and the
// generator was not resumed past the last token taken.
$yielded = 0;
$counting = (function () use (&$yielded) {
    for ($i = 100; $i < 5100; $i++) {
        $yielded++;
        yield apns_token($i);
    }
})();
try {
    $c->sendMany($counting, $p, ['progress' => function (int $done) {
        throw new LogicException("stop at $done");
    }]);
} catch (LogicException $e) {
    echo "LogicException: ", $e->getMessage(), "\n";
    apns_check('the generator yielded exactly the tokens taken', "stop at $yielded" === $e->getMessage(), "yielded $yielded");
}
$c->close();
?>
--EXPECTF--
array: sent=50 failed=0 logged in order=yes
generator with string keys: sent=50 failed=0 logged in order=yes
ArrayIterator: sent=50 failed=0 logged in order=yes
IteratorAggregate: sent=50 failed=0 logged in order=yes
PDO statement: sent=50 failed=0 logged in order=yes
array of references: sent=50 failed=0 logged in order=yes
RuntimeException: the database went away
the 20 tokens before the exception were delivered: ok
TypeError: %sdeviceTokens%s
mixed: sent=2 failed=2 (%s)
LogicException: stop at %d
the generator yielded exactly the tokens taken: ok
