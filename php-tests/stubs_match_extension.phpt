--TEST--
stubs/apns.stub.php matches the loaded extension, mechanically: classes, constants and their values, methods, parameters (names, types, optional), return types, and the keys of stats() for both protocols
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

// The stub declares the real class names: load it under other names to compare.
$stub = file_get_contents(__DIR__ . '/../stubs/apns.stub.php');
$renamed = preg_replace(['/^<\?php/', '/\bclass ApnsConnection\b/', '/\bclass ApnsException\b/'],
    ['', 'class Stub_ApnsConnection', 'class Stub_ApnsException'], $stub, -1, $count);
apns_check('the stub declares both classes', $count === 3);
eval($renamed);

/** Everything PHP code can see of a class, in a comparable form. */
function surface(string $class): array
{
    $c = new ReflectionClass($class);
    $out = [
        'final' => $c->isFinal(),
        'parent' => $c->getParentClass() ? $c->getParentClass()->getName() : null,
        'constants' => $c->getConstants(),
        'methods' => [],
    ];
    foreach ($c->getMethods() as $m) {
        if ($m->getDeclaringClass()->getName() !== $class) {
            continue;
        }
        $params = [];
        foreach ($m->getParameters() as $p) {
            $params[] = sprintf('%s%s $%s%s', $p->isVariadic() ? '...' : '', (string) $p->getType(),
                $p->getName(), $p->isOptional() ? ' = ?' : '');
        }
        $modifiers = implode(' ', Reflection::getModifierNames($m->getModifiers()));
        $out['methods'][$m->getName()] = "$modifiers (" . implode(', ', $params) . '): ' . $m->getReturnType();
    }
    ksort($out['methods']);
    ksort($out['constants']);
    return $out;
}

foreach (['ApnsConnection', 'ApnsException'] as $class) {
    $real = surface($class);
    $documented = surface("Stub_$class");
    foreach (['final', 'parent', 'constants'] as $part) {
        apns_check("$class $part", $real[$part] === $documented[$part],
            json_encode(['extension' => $real[$part], 'stub' => $documented[$part]]));
    }
    foreach (array_unique(array_merge(array_keys($real['methods']), array_keys($documented['methods']))) as $name) {
        $r = $real['methods'][$name] ?? 'missing';
        $d = $documented['methods'][$name] ?? 'missing';
        if ($r !== $d) {
            echo "$class::$name differs: extension $r, stub $d\n";
        }
    }
    echo "$class methods compared: ", count($real['methods']), "\n";
}

// stats(): the top-level keys the stub's @return array{...} names (a trailing ?
// marks one that only some connections have) against a live connection of each
// protocol.
$doc = substr($stub, 0, strpos($stub, 'public function stats()'));
$shape = substr($doc, strrpos($doc, '@return array{') + strlen('@return array{'));
$required = $optional = [];
$depth = 0;
$entry = '';
foreach (str_split($shape) as $ch) {
    if ($depth === 0 && ($ch === ',' || $ch === '}')) {
        [$key] = explode(':', $entry);
        $key = trim($key);
        str_ends_with($key, '?') ? $optional[] = rtrim($key, '?') : $required[] = $key;
        $entry = '';
        if ($ch === '}') {
            break;
        }
        continue;
    }
    $depth += match ($ch) { '{', '<' => 1, '}', '>' => -1, default => 0 };
    $entry .= $ch;
}
$sb = apns_sandbox_start();
$connections = [
    'binary' => new ApnsConnection($sb['binary'], apns_options($sb)),
    'http2' => new ApnsConnection($sb['http2'], apns_options($sb, ['topic' => 'com.example.app'])),
];
foreach ($connections as $protocol => $c) {
    $keys = array_keys($c->stats());
    $missing = array_diff($required, $keys);
    $undocumented = array_diff($keys, $required, $optional);
    apns_check("stats() keys over $protocol are the stub's", $required !== [] && !$missing && !$undocumented,
        json_encode(['missing' => array_values($missing), 'undocumented' => array_values($undocumented)]));
    $c->close();
}
?>
--EXPECTF--
the stub declares both classes: ok
ApnsConnection final: ok
ApnsConnection parent: ok
ApnsConnection constants: ok
ApnsConnection methods compared: %d
ApnsException final: ok
ApnsException parent: ok
ApnsException constants: ok
ApnsException methods compared: %d
stats() keys over binary are the stub's: ok
stats() keys over http2 are the stub's: ok
