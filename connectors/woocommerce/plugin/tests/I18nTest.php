<?php
/**
 * Directory rules for code: every string translatable in the relay-sms text domain, the
 * .pot up to date, the Russian .po complete and its .mo compiled from it, every PHP file
 * guarded against direct access, GPL headers.
 *
 * @package RelaySms
 */

use PHPUnit\Framework\TestCase;

final class I18nTest extends TestCase {

	const FUNCTIONS = array( '__', '_e', 'esc_html__', 'esc_html_e', 'esc_attr__', 'esc_attr_e', '_x', '_ex', '_n', '_nx', 'esc_html_x', 'esc_attr_x' );

	private static function dir() {
		return dirname( __DIR__ ) . '/relay-sms';
	}

	private static function php_files() {
		$files = array();
		$it    = new RecursiveIteratorIterator( new RecursiveDirectoryIterator( self::dir(), FilesystemIterator::SKIP_DOTS ) );
		foreach ( $it as $file ) {
			if ( 'php' === $file->getExtension() ) {
				$files[] = $file->getPathname();
			}
		}
		sort( $files );
		return $files;
	}

	private static function msgids( $file ) {
		preg_match_all( '/^msgid "(.+)"$/m', (string) file_get_contents( $file ), $m );
		$ids = array_unique( $m[1] );
		sort( $ids );
		return $ids;
	}

	private static function tool( $name ) {
		$path = trim( (string) shell_exec( 'command -v ' . escapeshellarg( $name ) ) );
		self::assertNotSame( '', $path, "$name (Debian's gettext) is needed for this test" );
		return $path;
	}

	public function test_every_translation_call_names_the_relay_sms_text_domain() {
		$calls = 0;
		foreach ( self::php_files() as $file ) {
			$tokens = token_get_all( file_get_contents( $file ) );
			$count  = count( $tokens );
			for ( $i = 0; $i < $count; $i++ ) {
				if ( ! is_array( $tokens[ $i ] ) || T_STRING !== $tokens[ $i ][0] || ! in_array( $tokens[ $i ][1], self::FUNCTIONS, true ) ) {
					continue;
				}
				$j = $i + 1;
				while ( is_array( $tokens[ $j ] ) && T_WHITESPACE === $tokens[ $j ][0] ) {
					$j++;
				}
				if ( '(' !== $tokens[ $j ] ) {
					continue;
				}
				$depth = 0;
				$last  = null;
				for ( ; $j < $count; $j++ ) {
					$t = $tokens[ $j ];
					if ( '(' === $t || '[' === $t ) {
						$depth++;
					} elseif ( ')' === $t || ']' === $t ) {
						if ( 0 === --$depth ) {
							break;
						}
					} elseif ( is_array( $t ) && T_CONSTANT_ENCAPSED_STRING === $t[0] && 1 === $depth ) {
						$last = $t[1];
					} elseif ( is_array( $t ) && T_WHITESPACE !== $t[0] && 1 === $depth ) {
						$last = null;
					}
				}
				$calls++;
				$this->assertSame( "'relay-sms'", $last, basename( $file ) . ':' . $tokens[ $i ][2] . ' ' . $tokens[ $i ][1] . '() without the relay-sms text domain as its last argument' );
			}
		}
		$this->assertGreaterThan( 50, $calls );
		$main = file_get_contents( self::dir() . '/relay-sms.php' );
		$this->assertStringContainsString( "load_plugin_textdomain( 'relay-sms'", $main );
		$this->assertMatchesRegularExpression( '/^ \* Text Domain:\s+relay-sms$/m', $main );
		$this->assertMatchesRegularExpression( '/^ \* Domain Path:\s+\/languages$/m', $main );
	}

	public function test_the_pot_is_up_to_date_and_the_russian_translation_is_complete_and_compiled() {
		$xgettext = self::tool( 'xgettext' );
		$msgfmt   = self::tool( 'msgfmt' );
		$tmp      = sys_get_temp_dir() . '/relay-sms-i18n-' . getmypid();
		@mkdir( $tmp );
		$files = implode( ' ', array_map( 'escapeshellarg', self::php_files() ) );
		$keys  = '';
		foreach ( array( '__', '_e', 'esc_html__', 'esc_html_e', 'esc_attr__', 'esc_attr_e', '_x:1,2c', '_ex:1,2c', 'esc_html_x:1,2c', 'esc_attr_x:1,2c', '_n:1,2', '_nx:1,2,4c', '_n_noop:1,2' ) as $k ) {
			$keys .= ' --keyword=' . $k;
		}
		exec( "$xgettext --language=PHP --from-code=UTF-8 --no-wrap $keys --output=$tmp/fresh.pot $files 2>&1", $out, $rc );
		$this->assertSame( 0, $rc, implode( "\n", $out ) );
		$pot = self::dir() . '/languages/relay-sms.pot';
		$this->assertSame( self::msgids( "$tmp/fresh.pot" ), self::msgids( $pot ), 'relay-sms.pot is stale: run update-translations.sh' );

		$po = self::dir() . '/languages/relay-sms-ru_RU.po';
		$this->assertSame( self::msgids( $pot ), self::msgids( $po ), 'the Russian .po lacks strings: run update-translations.sh and translate' );
		$text = file_get_contents( $po );
		$this->assertStringNotContainsString( '#, fuzzy', $text );
		$this->assertDoesNotMatchRegularExpression( '/^msgstr(\[\d\])? ""\n\n/m', substr( $text, strpos( $text, "\n\n" ) ) . "\n", 'an untranslated string' );
		$this->assertStringContainsString( 'msgstr "Я согласен(на) получать SMS о скидках и акциях магазина. Отказаться можно в любой момент, ответив STOP."', $text );

		exec( "$msgfmt --check --output-file=$tmp/ru.mo " . escapeshellarg( $po ) . ' 2>&1', $out, $rc );
		$this->assertSame( 0, $rc, implode( "\n", $out ) );
		$this->assertSame( md5_file( "$tmp/ru.mo" ), md5_file( self::dir() . '/languages/relay-sms-ru_RU.mo' ), 'the .mo is not compiled from the .po: run update-translations.sh' );
		array_map( 'unlink', glob( "$tmp/*" ) );
		rmdir( $tmp );
	}

	public function test_every_php_file_refuses_direct_access_and_carries_the_gpl() {
		foreach ( self::php_files() as $file ) {
			$head = implode( '', array_slice( file( $file ), 0, 45 ) );
			$name = substr( $file, strlen( self::dir() ) + 1 );
			if ( 'uninstall.php' === $name ) {
				$this->assertStringContainsString( "defined( 'WP_UNINSTALL_PLUGIN' ) || exit;", $head );
			} else {
				$this->assertStringContainsString( "defined( 'ABSPATH' ) || exit;", $head, "$name has no direct-access guard" );
			}
			$this->assertStringContainsString( 'GNU General Public License', $head, "$name has no GPL notice" );
		}
	}
}
