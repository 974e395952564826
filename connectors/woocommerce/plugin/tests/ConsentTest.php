<?php
/**
 * Relay_SMS_Consent: the box's meaning.
 *
 * @package RelaySms
 */

use PHPUnit\Framework\TestCase;

final class ConsentTest extends TestCase {

	public function test_wording_falls_back_to_the_default_and_is_trimmed() {
		$this->assertSame( Relay_SMS_Consent::DEFAULT_WORDING, Relay_SMS_Consent::wording( "  \n " ) );
		$this->assertStringContainsString( 'STOP', Relay_SMS_Consent::DEFAULT_WORDING );
		$this->assertSame( 'Да, присылайте SMS', Relay_SMS_Consent::wording( "  Да,\n присылайте   SMS " ) );
	}

	public function test_ticked_values() {
		foreach ( array( '1', 'on', 'yes', 'TRUE', true ) as $value ) {
			$this->assertTrue( Relay_SMS_Consent::is_ticked( $value ) );
		}
		foreach ( array( '0', '', 'no', false, null ) as $value ) {
			$this->assertFalse( Relay_SMS_Consent::is_ticked( $value ) );
		}
	}

	public function test_decisions() {
		$w = 'wording';
		$this->assertSame( 'granted', Relay_SMS_Consent::decide( null, null, true, $w ) );
		$this->assertNull( Relay_SMS_Consent::decide( null, null, false, $w ), 'a guest not ticking revokes nothing' );
		$this->assertNull( Relay_SMS_Consent::decide( true, $w, true, $w ), 'same choice, same words: nothing new' );
		$this->assertSame( 'granted', Relay_SMS_Consent::decide( true, 'old words', true, $w ), 'new words: new grant' );
		$this->assertSame( 'revoked', Relay_SMS_Consent::decide( true, $w, false, $w ) );
		$this->assertNull( Relay_SMS_Consent::decide( false, $w, false, $w ) );
		$this->assertSame( 'granted', Relay_SMS_Consent::decide( false, $w, true, $w ) );
	}
}
